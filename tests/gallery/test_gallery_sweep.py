"""The gallery's part of the hourly sweeper `cleanup_stale_uploads` (SPEC §7.3): images still not `ready` an hour
after their upload are marked `failed` with their originals deleted, through the step the gallery registers with
core; and the orphan sweep keeps the `images/` and `tmp/` objects gallery rows reference and deletes the rest."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from threading import Event, Thread

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gallery.models import GalleryImage, ProcessingStatus
from gallery.services.images import image_referenced_keys, staging_referenced_keys
from gallery.services.processing import MSG_TIMED_OUT, images_sweep_unfinished
from lego_api.core import orphans, storage
from lego_api.core.sweeper import registered_sweep_steps
from mocs.tasks import cleanup_stale_uploads
from tests.factories import GalleryImageFactory
from tests.gallery.conftest import photo_bytes
from tests.helpers import stored_keys

pytestmark = pytest.mark.django_db(transaction=True)


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def with_original(owner: str, *, status: str, created_at) -> GalleryImage:
    """An image row with its original stored under tmp/, as G1 leaves it."""
    image = GalleryImageFactory(user_id=owner, processing_status=status)
    staging_key = f"tmp/{storage.user_key_segment(owner)}/{image.pk}.jpg"
    storage.save_bytes(staging_key, photo_bytes(size=(32, 24)), content_type="image/jpeg")
    GalleryImage.objects.filter(pk=image.pk).update(staging_key=staging_key, created_at=created_at)
    image.refresh_from_db()
    return image


def staging_keys(owner: str) -> list[str]:
    return stored_keys(f"tmp/{storage.user_key_segment(owner)}/")


def test_the_gallery_registers_its_sweep_step():
    assert "galleryImagesFailed" in registered_sweep_steps()


def test_hourly_task_fails_images_not_ready_after_an_hour_and_deletes_their_originals(api, owner, caplog):
    stale_pending = with_original(owner, status=ProcessingStatus.PENDING, created_at=ago(minutes=61))
    stale_processing = with_original(owner, status=ProcessingStatus.PROCESSING, created_at=ago(hours=5))
    fresh = with_original(owner, status=ProcessingStatus.PENDING, created_at=ago(minutes=30))
    old_ready = GalleryImageFactory(user_id=owner, processing_status=ProcessingStatus.READY)
    GalleryImage.objects.filter(pk=old_ready.pk).update(created_at=ago(days=2))
    api.get(f"/api/images/{stale_pending.pk}")  # cached as pending

    with caplog.at_level(logging.INFO, logger="mocs.tasks"):
        cleanup_stale_uploads()

    for image in (stale_pending, stale_processing):
        image.refresh_from_db()
        assert (image.processing_status, image.processing_error, image.staging_key) == ("failed", MSG_TIMED_OUT, None)
    fresh.refresh_from_db()
    assert (fresh.processing_status, fresh.staging_key) == ("pending", fresh.staging_key)
    assert GalleryImage.objects.get(pk=old_ready.pk).processing_status == "ready"
    assert staging_keys(owner) == [fresh.staging_key]
    detail = api.get(f"/api/images/{stale_pending.pk}")
    assert (detail["X-Cache"], detail.json()["data"]["processingStatus"]) == ("MISS", "failed")
    [record] = [r for r in caplog.records if r.getMessage() == "stale uploads swept"]
    assert record.galleryImagesFailed >= 2


def test_sweeping_twice_is_harmless(owner):
    with_original(owner, status=ProcessingStatus.PENDING, created_at=ago(hours=2))

    assert images_sweep_unfinished() == 1
    assert images_sweep_unfinished() == 0


def test_an_image_a_task_holds_is_left_for_the_next_run(owner):
    """A row locked by a running task is being worked on, not stuck: the sweep skips it rather than wait."""
    image = with_original(owner, status=ProcessingStatus.PROCESSING, created_at=ago(hours=2))
    locked, release = Event(), Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(GalleryImage.objects.select_for_update().filter(pk=image.pk))
                locked.set()
                release.wait(timeout=30)
        finally:
            locked.set()
            connections.close_all()

    holder = Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        assert images_sweep_unfinished(now=timezone.now()) == 0
    finally:
        release.set()
        holder.join(timeout=30)
    assert GalleryImage.objects.get(pk=image.pk).processing_status == "processing"


# --- The orphan sweep under images/ and tmp/ ---------------------------------------------------------------------


def test_registered_prefixes_include_the_gallery_ones():
    assert {"images/", "tmp/"} <= set(orphans.registered_prefixes())


def test_orphan_sweep_keeps_what_gallery_rows_reference(owner):
    segment = storage.user_key_segment(owner)
    ready = GalleryImageFactory(user_id=owner)
    pending = with_original(owner, status=ProcessingStatus.PENDING, created_at=ago(minutes=5))
    leftover_original = f"tmp/{segment}/{ready.pk}.jpg"  # the row is ready: its original is no longer referenced
    orphan_image = f"images/{segment}/{uuid.uuid4()}.webp"
    orphan_thumbnail = f"images/{segment}/thumbnails/{uuid.uuid4()}.webp"
    webp = photo_bytes("WEBP", (16, 16))
    for key in (ready.image_url, ready.thumbnail_url, orphan_image, orphan_thumbnail):
        storage.save_bytes(key, webp, content_type="image/webp")
    storage.save_bytes(leftover_original, photo_bytes(size=(16, 16)), content_type="image/jpeg")

    later = timezone.now() + timedelta(hours=2)
    swept = [
        orphans.unreferenced_objects_sweep(now=later, within=f"{prefix}/{segment}/") for prefix in ("images", "tmp")
    ]

    assert sum(result.deleted for result in swept) == 3
    assert stored_keys(f"images/{segment}/") == sorted([ready.image_url, ready.thumbnail_url])
    assert staging_keys(owner) == [pending.staging_key]


def test_referenced_keys_take_one_primary_key_query(owner):
    image = GalleryImageFactory(user_id=owner)
    pending = with_original(owner, status=ProcessingStatus.PENDING, created_at=ago(minutes=1))
    unknown = f"images/{storage.user_key_segment(owner)}/{uuid.uuid4()}.webp"

    with CaptureQueriesContext(connection) as queries:
        found = image_referenced_keys([image.image_url, image.thumbnail_url, unknown, "images/not-a-key"])
    assert found == {image.image_url, image.thumbnail_url}
    assert len(queries) == 1
    assert staging_referenced_keys([pending.staging_key, f"tmp/x/{image.pk}.jpg"]) == {pending.staging_key}
