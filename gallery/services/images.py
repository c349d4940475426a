"""Gallery image services (SPEC §4.3 G1, G4-G6): ownership lookups, the upload, update and delete, and the side
effects every image change has (lastUpdatedAt, search vector, cache bump, search indexing, object deletes).

The upload writes in the one order of `lego_api.core.uploads`: every check first, then in one transaction the
`pending` row and last the staging object; `process_gallery_image` runs after the commit (§5.5, §7.3).
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from gallery.keys import gallery_image_key, gallery_staging_key, gallery_thumbnail_key
from gallery.models import GalleryAlbum, GalleryImage, ProcessingStatus
from gallery.search import KIND as SEARCH_KIND
from gallery.tasks import process_gallery_image
from lego_api.core import cache as response_cache
from lego_api.core import metrics
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.ownership import get_owned
from lego_api.core.runtime import runs_inline
from lego_api.core.search.tasks import search_delete, search_index
from lego_api.core.search.vector import document_vector
from lego_api.core.updates import save_changes
from lego_api.core.uploads import delete_after_commit, undo_on_failure

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from lego_api.core.files import CheckedFile

IMAGE_LABEL = "image"  # `Image not found`, `You do not own this image`, `Image uploaded successfully`
MSG_ALBUM_NOT_FOUND = "Album not found"
UNTITLED = "Untitled"
TITLE_MAX_LENGTH = 200


def image_get_owned(*, user_id: str, image_id: UUID | str) -> GalleryImage:
    """The image, or 404 `Image not found` / 403 `You do not own this image` (SPEC §1.9)."""
    return get_owned(GalleryImage.objects.all(), image_id, user_id=user_id, label=IMAGE_LABEL)


def image_album_reference(*, user_id: str, album_id: UUID | None, field: str = "albumId") -> GalleryAlbum | None:
    """A body's `albumId`: one of the caller's albums, locked against a concurrent delete until the transaction ends,
    or 400 `Album not found` on the field (a missing and another user's album alike, SPEC §1.9). None stays None."""
    if album_id is None:
        return None
    album = GalleryAlbum.objects.select_for_update(no_key=True).filter(pk=album_id, user_id=user_id).first()
    if album is None:
        raise ValidationFailed.on_field(field, MSG_ALBUM_NOT_FOUND)
    return album


def image_default_title(filename: str | None) -> str:
    """G1's title when none is given: the file name without its extension, at most 200 characters, or `Untitled`."""
    stem, dot, _ = (filename or "").rpartition(".")
    title = (stem if dot else filename or "").strip()[:TITLE_MAX_LENGTH].strip()
    return title or UNTITLED


def image_refresh_search_vector(*, image_id: UUID | str) -> None:
    """`search_vector` = title (A), tags (B), description (C), english configuration (SPEC §3.0)."""
    GalleryImage.objects.filter(pk=image_id).update(search_vector=document_vector())


def image_changed(*, image: GalleryImage) -> None:
    """After-commit effects of a change to an image: bump the owner's gallery family, re-index the image."""
    response_cache.bump("gallery", image.user_id)
    search_index.delay(SEARCH_KIND, str(image.pk))


def images_reindex(*, image_ids: Sequence[UUID | str]) -> None:
    """Re-index several images after commit (at most 500 ids a task, SPEC §7.3)."""
    ids = [str(image_id) for image_id in image_ids]
    for start in range(0, len(ids), 500):
        search_index.delay(SEARCH_KIND, None, ids[start : start + 500])


def image_upload(*, user_id: str, upload: UploadedFile, checked: CheckedFile, data: dict[str, Any]) -> GalleryImage:
    """G1: store a checked upload as a `pending` image and its original at `tmp/{uid}/{id}.{ext}`, then process it
    after commit. Returns the image as it is once the commit's effects ran: `ready` (or `failed`) when the task ran
    inline, `pending` when it went to the worker."""
    image_id = uuid.uuid4()
    staging_key = gallery_staging_key(user_id, image_id, checked.extension)
    with undo_on_failure() as writes, transaction.atomic():
        album = image_album_reference(user_id=user_id, album_id=data.get("album_id"))
        now = timezone.now()
        image = GalleryImage.objects.create(
            id=image_id,
            user_id=user_id,
            title=data.get("title") or image_default_title(checked.filename),
            description=data.get("description"),
            tags=data.get("tags") or [],
            album=album,
            image_url=gallery_image_key(user_id, image_id),
            thumbnail_url=gallery_thumbnail_key(user_id, image_id),
            processing_status=ProcessingStatus.PENDING,
            staging_key=staging_key,
            created_at=now,
            last_updated_at=now,
        )
        image_refresh_search_vector(image_id=image_id)
        writes.save(staging_key, upload.file, checked=checked)
        process_gallery_image.delay(str(image_id))
        if not runs_inline():
            # Inline, the task runs right after this commit and bumps and indexes itself; doing it here too would
            # only repeat both before the response.
            image_changed(image=image)
        metrics.emit_on_commit("GalleryImagesUploaded", 1)
    image.refresh_from_db()
    return image


@transaction.atomic
def image_update(*, image: GalleryImage, data: dict[str, Any]) -> GalleryImage:
    """G5: apply the fields sent (title, description, tags, albumId); 400 `Album not found` on a foreign album.

    Only the given fields are written, on the locked row, so a concurrent processing run's status is kept."""
    image = GalleryImage.objects.select_for_update().get(pk=image.pk)
    fields = dict(data)
    if "album_id" in fields:
        fields["album"] = image_album_reference(user_id=image.user_id, album_id=fields.pop("album_id"))
    if "tags" in fields and fields["tags"] is None:
        fields["tags"] = []
    save_changes(image, fields, stamp="last_updated_at")
    if {"title", "tags", "description"} & fields.keys():
        image_refresh_search_vector(image_id=image.pk)
    image_changed(image=image)
    return image


@transaction.atomic
def image_delete(*, image: GalleryImage) -> None:
    """G6 (and the admin's deletes): the row with its flags and MOC links (albums it covered lose their cover);
    after commit its objects (image, thumbnail, staging) are deleted, the document unindexed, the gallery bumped."""
    image = GalleryImage.objects.select_for_update().filter(pk=image.pk).first() or image
    keys = [image.image_url, image.thumbnail_url, image.staging_key]
    user_id, image_id = image.user_id, str(image.pk)
    GalleryImage.objects.filter(pk=image_id).delete()
    delete_after_commit(keys)
    search_delete.delay(SEARCH_KIND, image_id)
    response_cache.bump("gallery", user_id)


# --- Keys the orphan sweep must keep (registered in GalleryConfig.ready()) ------------------------------------------


def _image_ids(keys: Sequence[str]) -> dict[str, UUID]:
    """`{key: image id}` for keys named after an image id (`.../{id}.{ext}`); other keys reference nothing."""
    ids = {}
    for key in keys:
        stem = posixpath.splitext(posixpath.basename(key))[0]
        try:
            ids[key] = UUID(stem)
        except ValueError:
            continue
    return ids


def _referenced(keys: Sequence[str], columns: Sequence[str]) -> set[str]:
    ids = _image_ids(keys)
    rows = GalleryImage.objects.filter(pk__in=set(ids.values())).values_list(*columns)
    named = {value for row in rows for value in row if value}
    return {key for key in ids if key in named}


def image_referenced_keys(keys: Sequence[str]) -> set[str]:
    """Which `images/` keys an image row names as its image or thumbnail (one primary-key query per page)."""
    return _referenced(keys, ("image_url", "thumbnail_url"))


def staging_referenced_keys(keys: Sequence[str]) -> set[str]:
    """Which `tmp/` keys an image row still waits to process."""
    return _referenced(keys, ("staging_key",))
