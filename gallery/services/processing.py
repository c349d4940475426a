"""The `process_gallery_image` task's work (SPEC §5.5, §7.3): turn an image's uploaded original into the 2048 px WebP
and the 400 px thumbnail made from it, and the sweeper's step for images that never got there.

States: `pending` → `processing` → `ready` | `failed`. The task is idempotent: a `ready` (or `failed`) image is left
alone; a run after a crash starts again (the outputs are written at fixed keys, so a re-run overwrites them); and when
the original is gone but both outputs exist (a run that crashed after deleting it), the image is `ready`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from gallery.models import GalleryImage, ProcessingStatus
from gallery.services.images import image_changed
from lego_api.core import metrics, storage
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.images import ImageWithThumbnail, process_image_with_thumbnail
from lego_api.core.runtime import runs_inline
from lego_api.core.uploads import delete_after_commit

logger = logging.getLogger("gallery.processing")

IMAGE_MAX_WIDTH = 2048
THUMBNAIL_MAX_WIDTH = 400
WEBP = "image/webp"
# Images not `ready` this long after their upload are given up on (SPEC §7.3).
STALE_AFTER = timedelta(hours=1)

MSG_ORIGINAL_MISSING = "The uploaded file no longer exists; upload the image again"
MSG_INTERRUPTED = "The image could not be processed; upload it again"
MSG_TIMED_OUT = "Processing did not finish in time; upload the image again"
UNFINISHED = (ProcessingStatus.PENDING, ProcessingStatus.PROCESSING)


class _Failed(Exception):
    """A deterministic failure: recorded on the image with this short reason, never retried."""


def _start(image_id: str) -> GalleryImage | None:
    """`pending` → `processing` under the row lock; None when there is nothing to do (gone, `ready`, `failed`). An
    image already `processing` is a run that crashed or is retried: it starts again."""
    with transaction.atomic():
        image = GalleryImage.objects.select_for_update().filter(pk=image_id).first()
        if image is None or image.processing_status not in UNFINISHED:
            return None
        if image.processing_status == ProcessingStatus.PENDING:
            image.processing_status = ProcessingStatus.PROCESSING
            image.save(update_fields=["processing_status"])
    return image


def _outputs_exist(image: GalleryImage) -> bool:
    return storage.head(image.image_url) is not None and storage.head(image.thumbnail_url) is not None


def _render(image: GalleryImage) -> ImageWithThumbnail:
    """The processed image and thumbnail from the staging object; `_Failed` on content that is not a usable image."""
    if not image.staging_key:
        raise FileNotFoundError("no staging key")
    with storage.open_object(image.staging_key) as original:
        try:
            return process_image_with_thumbnail(
                original, max_width=IMAGE_MAX_WIDTH, thumbnail_width=THUMBNAIL_MAX_WIDTH, field="image"
            )
        except ValidationFailed as exc:  # `File is not a valid image`, the pixel limit
            raise _Failed(exc.message) from None


def _finish(image_id: str, *, error: str | None = None, written: tuple[str, ...] = ()) -> None:
    """Record the run's outcome (`ready`, or `failed` with `error`) under the row lock, unless the image moved on:
    deleted meanwhile (what this run wrote is deleted too), or finished by another run or the sweeper. The original
    goes after commit either way; the owner's gallery is bumped and the image re-indexed."""
    with transaction.atomic():
        image = GalleryImage.objects.select_for_update().filter(pk=image_id).first()
        if image is None:
            delete_after_commit(written)
            return
        if image.processing_status != ProcessingStatus.PROCESSING:
            return
        staging_key = image.staging_key
        image.processing_status = ProcessingStatus.FAILED if error else ProcessingStatus.READY
        image.processing_error = error
        image.staging_key = None
        image.save(update_fields=["processing_status", "processing_error", "staging_key"])
        delete_after_commit([staging_key])
        image_changed(image=image)
        metrics.emit_on_commit("GalleryImagesProcessed", 1, properties={"status": image.processing_status})


def image_process(*, image_id: str) -> None:
    """The `process_gallery_image` task: write the WebP and thumbnail, then mark the image `ready`, or `failed` with
    a short `processingError` when the original is not a usable image.

    A transient error (storage, database) is re-raised on Lambda, which retries the invocation; inline, where nothing
    would retry it, the image is recorded as `failed`.
    """
    image = _start(image_id)
    if image is None:
        return
    try:
        try:
            rendered = _render(image)
        except FileNotFoundError:
            _finish(image_id, error=None if _outputs_exist(image) else MSG_ORIGINAL_MISSING)
            return
        except _Failed as failed:
            _finish(image_id, error=str(failed))
            return
        storage.save_bytes(image.image_url, rendered.image.data, content_type=WEBP)
        storage.save_bytes(image.thumbnail_url, rendered.thumbnail.data, content_type=WEBP)
        _finish(image_id, written=(image.image_url, image.thumbnail_url))
    except Exception:
        if not runs_inline():
            raise
        logger.exception("gallery image processing failed", extra={"imageId": image_id})
        try:
            _finish(image_id, error=MSG_INTERRUPTED)
        except Exception:  # the database itself may be what failed; the sweeper catches up
            logger.exception("could not record the processing failure", extra={"imageId": image_id})


def images_sweep_unfinished(*, now: datetime | None = None) -> int:
    """The sweeper's step for the gallery (registered in GalleryConfig.ready()): images still `pending` or
    `processing` an hour after their upload are marked `failed` and their originals deleted; owners' caches are
    bumped. Returns how many were marked."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = GalleryImage.objects.filter(processing_status__in=UNFINISHED, created_at__lt=cutoff)
    marked = 0
    for image_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            # skip_locked: an image a task holds right now is being worked on; the filter is applied again under
            # the lock, since a run may have finished it in between.
            image = stale.select_for_update(skip_locked=True).filter(pk=image_id).first()
            if image is None:
                continue
            staging_key = image.staging_key
            image.processing_status = ProcessingStatus.FAILED
            image.processing_error = MSG_TIMED_OUT
            image.staging_key = None
            image.save(update_fields=["processing_status", "processing_error", "staging_key"])
            delete_after_commit([staging_key])
            image_changed(image=image)
            marked += 1
    return marked
