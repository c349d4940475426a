"""S3 (SeaweedFS) stopped and paused before and during multi-file uploads: M11 with several files, M7 create with
files and M10 finalize answer (a clean error envelope, or the files that were stored), lose nothing that answered 2xx,
leave no row pointing at a missing object and, once the sweeper has run, no object that no row points at, and work
again once storage is back without restarting anything (SPEC §4.2 M7/M10/M11, §5.3, §5.4, §7.1, §7.3).

A storage outage is not the client's fault, so it is the SPEC §1.2 500 `INTERNAL_ERROR` (logged with the request
id), never a 400 that would tell the client not to retry.

Objects no row points at: a request that fails after writing objects cannot delete them from storage that has gone
away, and a paused server may complete, when it resumes, a write the client had given up on (seen with 12 MB bodies).
The request still tries its delete; what it leaves behind, the sweeper's orphan step deletes once the object is an
hour old (`lego_api.core.orphans`; the tests move its clock on). The interrupted cases leave such objects, so they
are the sweep's acceptance tests. Where no request could write (storage stopped before it, or finalize, which writes
nothing), nothing is left even before the sweep.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gallery.models import GalleryImage
from lego_api import settings as project_settings
from lego_api.core import health, orphans, storage
from mocs.models import Moc, MocFile
from tests.factories import GalleryAlbumFactory, GalleryImageFactory
from tests.faults.probes import (
    OUTAGES,
    assert_degraded_then_healthy,
    assert_internal_error,
    bucket_keys,
    end_outage,
    health_during_and_after,
    large_pdf,
    outage,
    referenced_keys,
    rows_missing_objects,
    sweep_orphans,
    unreferenced_objects,
    wait_until_settled,
)
from tests.gallery.conftest import photo_bytes
from tests.helpers import stored_keys
from tests.samples import CSV, PDF, moc_fields
from tools.devstack import Service

pytestmark = pytest.mark.django_db(transaction=True)

# API Gateway gives up on a request after 29 s. A failed write and the delete that undoes it must both have failed
# by then, retries included, for the client to get an answer rather than a gateway timeout.
GATEWAY_TIMEOUT_SECONDS = 29


def worst_case_seconds(client) -> float:
    config = client.meta.config
    retries = config.retries or {}
    attempts = retries.get("total_max_attempts") or retries.get("max_attempts", 4) + 1
    return attempts * (config.connect_timeout + config.read_timeout)


@pytest.fixture
def short_storage_timeouts(settings):
    """Each storage call gives up after about 2 s (still with its retry) instead of the deployed 14 s, so that the
    suite stays fast; what the tests assert does not depend on how long the calls wait."""
    shorter = project_settings.s3_storage(connect_timeout=1, read_timeout=1, max_attempts=2)
    settings.STORAGES = {**settings.STORAGES, "default": shorter}  # the storage and its client are made again


def upload_files(api, moc: Moc, megabytes: int = 1):
    """M11 with three instruction files (12 MB ones take long enough to write for an outage to start in between)."""
    files = [large_pdf(megabytes, f"part-{index}.pdf") for index in range(3)]
    return api.post(f"/api/mocs/{moc.id}/files", {"files": files, "fileType": "instruction"}, format="multipart")


def create_with_files(api, megabytes: int = 1):
    """M7 with three instruction files and a parts list."""
    data = {
        **moc_fields("Coffee Truck"),
        "instructionsFile": [large_pdf(megabytes, f"part-{index}.pdf") for index in range(3)],
        "partsLists": [SimpleUploadedFile("bricks.csv", CSV, content_type="text/csv")],
    }
    return api.post("/api/mocs/with-files", data, format="multipart")


def assert_back_and_consistent(service: Service, kind: str, owner: str, *, writes_refused: bool) -> None:
    """Once the outage is over and the paused server has finished what it was sent: every ready row has its object;
    when storage refused every write (`writes_refused`: stopped before the request, or a route that writes nothing),
    no object is left that no row points at; and after the sweeper's orphan step the bucket holds exactly the
    objects the rows point at."""
    end_outage(service, kind)
    wait_until_settled(service, owner)
    assert rows_missing_objects(owner) == set()
    if writes_refused:
        assert unreferenced_objects(owner) == set()
    sweep_orphans(owner)
    assert bucket_keys(owner) == referenced_keys(owner)


# --- Bounded ------------------------------------------------------------------------------------------------------


def test_storage_calls_fail_within_a_bounded_time():
    """A paused S3 answers nothing; botocore's defaults (60 s reads, 4 attempts) held an upload for 4 minutes."""
    assert 2 * worst_case_seconds(storage.s3_client()) < GATEWAY_TIMEOUT_SECONDS
    assert worst_case_seconds(storage.s3_client(storage.HEALTH_STORAGE)) <= 2 * health.CHECK_TIMEOUT_SECONDS


# --- Storage out before the request ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTAGES)
def test_multi_file_upload_fails_cleanly_and_works_once_storage_is_back(
    api, owner, moc, services, kind, short_storage_timeouts
):
    with outage(services.s3, kind):
        during = upload_files(api, moc)
    assert_internal_error(during)
    assert not MocFile.objects.filter(moc=moc).exists()

    after = upload_files(api, moc)
    assert after.status_code == 201, after.content
    assert after.json()["data"]["summary"] == {"total": 3, "succeeded": 3, "failed": 0}
    assert MocFile.objects.filter(moc=moc, status="ready").count() == 3
    assert_back_and_consistent(services.s3, kind, owner, writes_refused=kind == "stopped")


@pytest.mark.parametrize("kind", OUTAGES)
def test_create_with_files_keeps_nothing_and_works_once_storage_is_back(
    api, owner, services, kind, short_storage_timeouts
):
    with outage(services.s3, kind):
        during = create_with_files(api)
    assert_internal_error(during)
    assert not Moc.objects.filter(user_id=owner).exists()

    after = create_with_files(api)
    assert after.status_code == 201, after.content
    assert len(after.json()["data"]["files"]) == 4
    assert_back_and_consistent(services.s3, kind, owner, writes_refused=kind == "stopped")


def declare_and_put(api) -> tuple[str, list[str]]:
    """M8 with two files, both PUT to their presigned URLs while storage is up: (mocId, fileIds)."""
    files = [
        {"filename": "truck.pdf", "fileType": "instruction", "mimeType": "application/pdf", "size": len(PDF)},
        {"filename": "bricks.csv", "fileType": "parts-list", "mimeType": "text/csv", "size": len(CSV)},
    ]
    body = {**moc_fields("Presigned Truck"), "files": files}
    response = api.post("/api/mocs/with-files/initialize", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    for upload_url, content in zip(data["uploadUrls"], [PDF, CSV], strict=True):
        put = requests.put(upload_url["uploadUrl"], data=content, headers=upload_url["headers"], timeout=10)
        assert put.status_code == 200, put.text
    return data["mocId"], [upload_url["fileId"] for upload_url in data["uploadUrls"]]


@pytest.mark.parametrize("kind", OUTAGES)
def test_finalize_changes_nothing_and_works_once_storage_is_back(api, owner, services, kind, short_storage_timeouts):
    moc_id, file_ids = declare_and_put(api)
    body = {"uploadedFiles": [{"fileId": file_id, "success": True} for file_id in file_ids]}

    with outage(services.s3, kind):
        during = api.post(f"/api/mocs/{moc_id}/finalize", body, format="json")
    assert_internal_error(during)
    assert set(MocFile.objects.filter(moc_id=moc_id).values_list("status", flat=True)) == {"pending"}

    after = api.post(f"/api/mocs/{moc_id}/finalize", body, format="json")
    assert after.status_code == 200, after.content
    assert {file["status"] for file in after.json()["data"]["files"]} == {"ready"}
    assert len(bucket_keys(owner)) == 2  # finalize writes no object of its own: none can be orphaned
    assert_back_and_consistent(services.s3, kind, owner, writes_refused=True)


# --- Storage out in the middle of the request ------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTAGES)
def test_multi_file_upload_interrupted_after_its_first_object(
    api, owner, moc, services, kind, outage_when, short_storage_timeouts
):
    """Storage goes away as soon as the first object is in the bucket, while the next ones are being written."""
    first_object_stored = lambda: bool(bucket_keys(owner))  # noqa: E731
    with outage_when(services.s3, kind, first_object_stored) as trigger:
        response = upload_files(api, moc, megabytes=12)
    assert trigger.fired.is_set()

    if response.status_code == 201:  # storage went away only after the last write: all of it is kept
        uploaded = {file["id"] for file in response.json()["data"]["uploaded"]}
        assert uploaded == {str(pk) for pk in MocFile.objects.filter(moc=moc).values_list("pk", flat=True)}
    else:
        assert_internal_error(response)
        assert not MocFile.objects.filter(moc=moc).exists()
    assert_back_and_consistent(services.s3, kind, owner, writes_refused=False)


@pytest.mark.parametrize("kind", OUTAGES)
def test_create_with_files_interrupted_after_its_first_object(
    api, owner, services, kind, outage_when, short_storage_timeouts
):
    """M7 is all or nothing: a create that fails keeps no MOC and no row."""
    first_object_stored = lambda: bool(bucket_keys(owner))  # noqa: E731
    with outage_when(services.s3, kind, first_object_stored) as trigger:
        response = create_with_files(api, megabytes=12)
    assert trigger.fired.is_set()

    if response.status_code == 201:  # storage went away only after the last write
        assert Moc.objects.filter(user_id=owner).count() == 1
    else:
        assert_internal_error(response)
        assert not Moc.objects.filter(user_id=owner).exists()
    assert_back_and_consistent(services.s3, kind, owner, writes_refused=False)


# --- Health ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTAGES)
def test_health_reports_storage_down_then_up(client, services, kind):
    during, after = health_during_and_after(client, services.s3, kind)
    assert_degraded_then_healthy(during, after, "storage")


# --- Routes that never call storage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTAGES)
def test_link_routes_never_call_storage(api, owner, moc, services, kind):
    """M14-M16 and the MOC detail with a linked image work through a storage outage: image URLs are signed locally
    (SPEC §5.3), and linking writes no object."""
    image = GalleryImageFactory(user_id=owner)
    url = f"/api/mocs/{moc.id}/gallery-images"
    with outage(services.s3, kind):
        assert api.post(url, {"galleryImageId": str(image.pk)}, format="json").status_code == 201
        listed = api.get(url)
        detail = api.get(f"/api/mocs/{moc.id}")
        assert api.delete(f"{url}/{image.pk}").status_code == 200
    assert listed.status_code == 200 and listed.json()["data"][0]["thumbnailUrl"]
    assert detail.status_code == 200 and detail.json()["data"]["images"][0]["source"] == "gallery"


@pytest.mark.parametrize("kind", OUTAGES)
def test_album_and_feed_routes_never_call_storage(api, owner, services, kind):
    """G9-G14 write no object and sign their cover and image URLs locally (SPEC §5.3): a storage outage changes
    nothing for them."""
    cover = GalleryImageFactory(user_id=owner)
    album = GalleryAlbumFactory(user_id=owner, cover_image=cover)
    with outage(services.s3, kind):
        listed = api.get("/api/albums")
        detail = api.get(f"/api/albums/{album.pk}")
        feed = api.get("/api/gallery")
        created = api.post("/api/albums", {"title": "Offline", "coverImageId": str(cover.pk)}, format="json")
        deleted = api.delete(f"/api/albums/{album.pk}")
    assert listed.status_code == 200 and listed.json()["data"][0]["coverThumbnailUrl"]
    assert detail.status_code == 200 and detail.json()["data"]["coverImageUrl"]
    assert feed.status_code == 200 and {item["type"] for item in feed.json()["data"]["items"]} == {"album", "image"}
    assert (created.status_code, deleted.status_code) == (201, 200)


# --- Gallery images (G1-G6, process_gallery_image) --------------------------------------------------------------------


def gallery_keys(owner: str) -> set[str]:
    """Every object the bucket holds for the owner's gallery: processed images and thumbnails, and originals."""
    segment = storage.user_key_segment(owner)
    return set(stored_keys(f"images/{segment}/")) | set(stored_keys(f"tmp/{segment}/"))


def gallery_referenced_keys(owner: str) -> set[str]:
    rows = GalleryImage.objects.filter(user_id=owner).values_list("image_url", "thumbnail_url", "staging_key")
    return {key for row in rows for key in row if key}


def sweep_gallery_orphans(owner: str) -> None:
    later = timezone.now() + orphans.UNREFERENCED_GRACE + timedelta(minutes=1)
    segment = storage.user_key_segment(owner)
    for prefix in ("images", "tmp"):
        orphans.unreferenced_objects_sweep(now=later, within=f"{prefix}/{segment}/")


def upload_image(api):
    image = SimpleUploadedFile("castle.jpg", photo_bytes("JPEG", (1600, 1200)), content_type="image/jpeg")
    return api.post("/api/images", {"image": image, "title": "Castle"}, format="multipart")


def assert_gallery_back_and_consistent(service: Service, kind: str, owner: str) -> None:
    """Once storage is back: every `ready` image has both objects, and after the orphan sweep the bucket holds
    exactly what the rows point at that exists (a failed image's outputs were never written)."""
    end_outage(service, kind)
    wait_until_settled(service, owner)
    for image in GalleryImage.objects.filter(user_id=owner, processing_status="ready"):
        assert {image.image_url, image.thumbnail_url} <= gallery_keys(owner)
    sweep_gallery_orphans(owner)
    assert gallery_keys(owner) <= gallery_referenced_keys(owner)


@pytest.mark.parametrize("kind", OUTAGES)
def test_image_upload_fails_cleanly_and_works_once_storage_is_back(api, owner, services, kind, short_storage_timeouts):
    with outage(services.s3, kind):
        during = upload_image(api)
    assert_internal_error(during)
    assert not GalleryImage.objects.filter(user_id=owner).exists()

    after = upload_image(api)
    assert after.status_code == 201, after.content
    assert after.json()["data"]["processingStatus"] == "ready"
    assert_gallery_back_and_consistent(services.s3, kind, owner)


@pytest.mark.parametrize("kind", OUTAGES)
def test_image_upload_interrupted_after_its_original_is_stored(
    api, owner, services, kind, outage_when, short_storage_timeouts
):
    """Storage goes away once the original is under tmp/: either the upload fails and keeps no row, or it committed
    and processing (inline) met the outage, which is recorded as `failed` rather than left `pending`."""
    segment = storage.user_key_segment(owner)
    original_stored = lambda: bool(stored_keys(f"tmp/{segment}/"))  # noqa: E731
    with outage_when(services.s3, kind, original_stored) as trigger:
        response = upload_image(api)
    assert trigger.fired.is_set()

    if response.status_code == 201:
        data = response.json()["data"]
        assert data["processingStatus"] in ("ready", "failed")
        row = GalleryImage.objects.get(pk=data["id"])
        assert (row.processing_status, row.staging_key) == (data["processingStatus"], None)
    else:
        assert_internal_error(response)
        assert not GalleryImage.objects.filter(user_id=owner).exists()
    assert_gallery_back_and_consistent(services.s3, kind, owner)


@pytest.mark.parametrize("kind", OUTAGES)
def test_image_reads_and_delete_work_through_an_outage_and_the_sweep_removes_the_objects(
    api, owner, services, kind, short_storage_timeouts
):
    """G2, G4 and G5 sign URLs locally; G6 commits and leaves its object deletes to after the commit, so a storage
    outage does not fail it: what the deletes could not remove, the orphan sweep does once storage is back."""
    image_id = upload_image(api).json()["data"]["id"]
    with outage(services.s3, kind):
        listed = api.get("/api/images")
        detail = api.get(f"/api/images/{image_id}")
        updated = api.patch(f"/api/images/{image_id}", {"title": "Offline"}, format="json")
        deleted = api.delete(f"/api/images/{image_id}")
    assert (listed.status_code, detail.status_code, updated.status_code, deleted.status_code) == (200, 200, 200, 200)
    assert listed.json()["data"][0]["thumbnailUrl"]
    assert not GalleryImage.objects.filter(pk=image_id).exists()
    assert_gallery_back_and_consistent(services.s3, kind, owner)
    assert gallery_keys(owner) == set()
