"""The presigned two-step flow (SPEC §4.2 M8-M10, §5.4): declare, PUT the bytes to SeaweedFS with `requests`, then
finalize (all or nothing); the file-system variant through C5 `PUT /local-uploads/{token}`; and the sweep of
uploads never finalized."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from django.test import override_settings
from django.urls import re_path
from django.utils import timezone

from lego_api.core.local_uploads import local_upload
from mocs.models import Moc, MocFile, MocFileStatus, MocPartsList
from mocs.services.files import files_delete_stale_pending
from tests.factories import MocFactory, MocFileFactory, MocPartsListFactory
from tests.helpers import assert_error, moc_prefix, stored_keys
from tests.samples import CSV, PDF, image_bytes, moc_fields

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1_048_576


PNG, JPEG = image_bytes("PNG"), image_bytes("JPEG")


def declare(filename: str, file_type: str, data: bytes, mime_type: str = "application/octet-stream", **extra) -> dict:
    return {"filename": filename, "fileType": file_type, "mimeType": mime_type, "size": len(data), **extra}


def put(upload_url: dict, data: bytes) -> requests.Response:
    """What a browser does with an upload URL: PUT the bytes with the signed headers."""
    assert upload_url["method"] == "PUT"
    response = requests.put(upload_url["uploadUrl"], data=data, headers=upload_url["headers"], timeout=10)
    assert response.status_code == 200, response.text
    return response


def finalize(api, moc_id, entries: list[tuple[str, bool]]):
    body = {"uploadedFiles": [{"fileId": file_id, "success": ok} for file_id, ok in entries]}
    return api.post(f"/api/mocs/{moc_id}/finalize", body, format="json")


# --- M8: initialize a new MOC ---------------------------------------------------------------------------------------


def test_initialize_creates_the_moc_and_pending_rows(api, owner):
    files = [
        declare("Coffee Truck.pdf", "instruction", PDF, "application/pdf"),
        declare("bricks.csv", "parts-list", CSV, "text/csv"),
        declare("cover.PNG", "thumbnail", PNG, "image/png"),
        declare("side.jpeg", "gallery-image", JPEG),
    ]
    response = api.post("/api/mocs/with-files/initialize", {**moc_fields(), "files": files}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "MOC initialized; upload the files, then call finalize"
    data = body["data"]
    moc = Moc.objects.get(pk=data["mocId"])
    assert moc.user_id == owner
    assert data["moc"]["id"] == data["mocId"] and data["moc"]["title"] == "Coffee Truck"
    assert data["expiresIn"] == 3600
    urls = data["uploadUrls"]
    assert [(u["filename"], u["fileType"]) for u in urls] == [(f["filename"], f["fileType"]) for f in files]
    assert [u["headers"] for u in urls] == [
        {"Content-Type": "application/pdf"},
        {"Content-Type": "text/csv"},
        {"Content-Type": "image/png"},
        {"Content-Type": "image/jpeg"},
    ]
    assert all(u["method"] == "PUT" and u["expiresIn"] == 3600 and "X-Amz-Signature=" in u["uploadUrl"] for u in urls)
    rows = {str(row.id): row for row in MocFile.objects.filter(moc=moc)}
    assert set(rows) == {u["fileId"] for u in urls}
    side = rows[urls[3]["fileId"]]
    assert (side.status, side.mime_type, side.file_size) == ("pending", "application/octet-stream", len(JPEG))
    assert side.file_url == f"mocs/{owner}/{moc.id}/{side.id}.jpg"
    assert rows[urls[2]["fileId"]].file_url.endswith(".png")
    assert api.get(f"/api/mocs/{moc.id}").json()["data"]["files"] == []  # pending files are not shown


def test_full_presigned_create(api, owner):
    files = [
        declare("truck.pdf", "instruction", PDF, "application/pdf"),
        declare("bricks.csv", "parts-list", CSV, "text/csv"),
        declare("cover.png", "thumbnail", PNG, "image/png"),
        declare("side.jpg", "gallery-image", JPEG, "image/jpeg"),
    ]
    data = api.post("/api/mocs/with-files/initialize", {**moc_fields(), "files": files}, format="json").json()["data"]
    for upload_url, content in zip(data["uploadUrls"], [PDF, CSV, PNG, JPEG], strict=True):
        put(upload_url, content)

    response = finalize(api, data["mocId"], [(u["fileId"], True) for u in data["uploadUrls"]])

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Upload finalized"
    detail = body["data"]
    assert sorted(f["originalFilename"] for f in detail["files"]) == [
        "bricks.csv",
        "cover.png",
        "side.jpg",
        "truck.pdf",
    ]
    assert all(f["status"] == "ready" for f in detail["files"])
    moc = Moc.objects.get(pk=data["mocId"])
    thumbnail = MocFile.objects.get(moc=moc, file_type="thumbnail")
    assert moc.thumbnail_url == thumbnail.file_url
    assert thumbnail.file_url in detail["thumbnailUrl"]
    # The parse task ran after commit (inline here): the list is ready in the response.
    assert [(pl["status"], pl["totalPartsCount"], pl["format"]) for pl in detail["partsLists"]] == [
        ("ready", 7, "standard-csv")
    ]
    assert detail["totalPieceCount"] == 7
    assert MocPartsList.objects.get(moc=moc).file_id == MocFile.objects.get(moc=moc, file_type="parts-list").id
    side = MocFile.objects.get(moc=moc, original_filename="side.jpg")
    assert (side.mime_type, side.file_size) == ("image/jpeg", len(JPEG))
    assert len(stored_keys(moc_prefix(moc))) == 4


def test_initialize_field_and_entry_errors_are_reported_together(api, owner):
    files = [{"filename": "", "fileType": "poster", "mimeType": "application/pdf", "size": "big"}]
    response = api.post("/api/mocs/with-files/initialize", {**moc_fields(title=""), "files": files}, format="json")
    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert set(error["details"]["fields"]) == {"title", "files.0.filename", "files.0.fileType", "files.0.size"}
    assert not Moc.objects.filter(user_id=owner).exists()


@pytest.mark.parametrize(
    ("entry", "status", "error_type", "message", "field"),
    [
        (declare("a.docx", "instruction", PDF), 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported file type. Allowed: .pdf, .io", "files.0.filename"),
        (declare("a.pdf", "instruction", PDF, "image/png"), 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported file type. Allowed: .pdf, .io", "files.0.mimeType"),
        (declare("a.png", "thumbnail", PNG, "image/jpeg"), 400, "VALIDATION_ERROR", "File content does not match its extension or declared type", "files.0.mimeType"),
        ({**declare("a.pdf", "instruction", PDF), "size": 50 * MB + 1}, 413, "PAYLOAD_TOO_LARGE", "File too large (max 50 MB)", "files.0.size"),
        ({**declare("a.csv", "parts-list", CSV), "size": 0}, 400, "VALIDATION_ERROR", "File is empty", "files.0.size"),
    ],
)  # fmt: skip
def test_initialize_entry_rules(api, owner, entry, status, error_type, message, field):
    files = [entry] if entry["fileType"] == "instruction" else [declare("a.pdf", "instruction", PDF), entry]
    field = field if entry["fileType"] == "instruction" else field.replace("files.0", "files.1")
    response = api.post("/api/mocs/with-files/initialize", {**moc_fields(), "files": files}, format="json")
    assert_error(response, status, error_type, message, {field: [message]})
    assert not Moc.objects.filter(user_id=owner).exists()


@pytest.mark.parametrize(
    ("files", "messages"),
    [
        ([declare("a.png", "gallery-image", PNG)], ["At least one instruction file is required"]),
        (
            [declare("a.pdf", "instruction", PDF)] + [declare(f"{n}.png", "gallery-image", PNG) for n in range(4)],
            ["At most 3 images are allowed"],
        ),
        (
            [declare("a.pdf", "instruction", PDF), declare("a.png", "thumbnail", PNG), declare("b.png", "thumbnail", PNG)],
            ["At most 1 thumbnail is allowed"],
        ),
        (
            [declare(f"{n}.pdf", "instruction", PDF) for n in range(11)] + [declare(f"{n}.csv", "parts-list", CSV) for n in range(11)],
            ["At most 10 instruction files are allowed", "At most 10 parts lists are allowed"],
        ),
    ],
)  # fmt: skip
def test_initialize_counts(api, owner, files, messages):
    response = api.post("/api/mocs/with-files/initialize", {**moc_fields(), "files": files}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", {"files": messages})
    assert not Moc.objects.filter(user_id=owner).exists()


def test_initialize_takes_1_to_23_files(api):
    for files in ([], [declare(f"{n}.pdf", "instruction", PDF) for n in range(24)]):
        response = api.post("/api/mocs/with-files/initialize", {**moc_fields(), "files": files}, format="json")
        error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
        assert list(error["details"]["fields"]) == ["files"]


def test_initialize_with_a_duplicate_title_is_409_and_creates_nothing(api, owner):
    MocFactory(user_id=owner, title="Coffee Truck")
    files = [declare("a.pdf", "instruction", PDF)]
    response = api.post("/api/mocs/with-files/initialize", {**moc_fields(), "files": files}, format="json")
    assert_error(response, 409, "CONFLICT", "A MOC with this title already exists")
    assert Moc.objects.filter(user_id=owner).count() == 1
    assert not MocFile.objects.filter(moc__user_id=owner).exists()


def test_initialize_anonymous_gets_401(anonymous):
    response = anonymous.post("/api/mocs/with-files/initialize", {}, format="json")
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")


# --- M9: initialize files of an existing MOC -------------------------------------------------------------------------


def initialize_files(api, moc, files):
    return api.post(f"/api/mocs/{moc.id}/files/initialize", {"files": files}, format="json")


def test_files_initialize_on_an_existing_moc(api, moc):
    response = initialize_files(api, moc, [declare("bricks.xml", "parts-list", b"<INVENTORY/>", "text/xml")])

    assert response.status_code == 201, response.content
    body = response.json()
    assert "message" not in body
    assert set(body["data"]) == {"mocId", "uploadUrls", "expiresIn"}
    assert body["data"]["mocId"] == str(moc.id)
    [upload_url] = body["data"]["uploadUrls"]
    assert upload_url["headers"] == {"Content-Type": "application/xml"}
    row = MocFile.objects.get(pk=upload_url["fileId"])
    assert (row.status, row.mime_type, row.file_type) == ("pending", "text/xml", "parts-list")


def test_files_initialize_caps_count_pending_files(api, moc):
    MocFileFactory.create_batch(8, moc=moc)
    MocFileFactory(moc=moc, status=MocFileStatus.PENDING)
    response = initialize_files(api, moc, [declare("a.pdf", "instruction", PDF), declare("b.pdf", "instruction", PDF)])
    assert_error(response, 409, "CONFLICT", "MOC already has 10 instruction files")
    assert MocFile.objects.filter(moc=moc).count() == 9


def test_files_initialize_parts_list_cap_counts_lists_and_pending_files(api, moc):
    MocPartsListFactory.create_batch(9, moc=moc)
    MocFileFactory(moc=moc, file_type="parts-list", status=MocFileStatus.PENDING)
    response = initialize_files(api, moc, [declare("a.csv", "parts-list", CSV)])
    assert_error(response, 409, "CONFLICT", "A MOC can have at most 10 parts lists")


def test_files_initialize_gallery_image_cap(api, moc):
    MocFileFactory.create_batch(9, moc=moc, file_type="gallery-image")
    response = initialize_files(api, moc, [declare(f"{n}.png", "gallery-image", PNG) for n in range(2)])
    assert_error(response, 409, "CONFLICT", "MOC already has 10 gallery images")


def test_files_initialize_needs_no_instruction_but_takes_at_most_10_files(api, moc):
    assert initialize_files(api, moc, [declare("a.png", "gallery-image", PNG)]).status_code == 201
    response = initialize_files(api, moc, [declare(f"{n}.png", "thumbnail", PNG) for n in range(11)])
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")


def test_files_initialize_owner_checks(api, other_api, anonymous, moc):
    files = [declare("a.pdf", "instruction", PDF)]
    assert_error(initialize_files(other_api, moc, files), 403, "FORBIDDEN", "You do not own this MOC")
    assert_error(initialize_files(anonymous, moc, files), 401, "UNAUTHORIZED", "Authentication required")
    missing = Moc(id=uuid.uuid4())
    assert_error(initialize_files(api, missing, files), 404, "NOT_FOUND", "MOC not found")
    assert not MocFile.objects.filter(moc=moc).exists()


# --- M10: finalize --------------------------------------------------------------------------------------------------


def initialized(api, moc, *entries: tuple[dict, bytes | None]) -> list[dict]:
    """Declare files on the MOC and PUT the given bytes (None: never uploaded); returns the upload URLs."""
    response = initialize_files(api, moc, [entry for entry, _ in entries])
    assert response.status_code == 201, response.content
    urls = response.json()["data"]["uploadUrls"]
    for upload_url, (_, content) in zip(urls, entries, strict=True):
        if content is not None:
            put(upload_url, content)
    return urls


def test_finalize_fails_for_a_missing_object_and_changes_nothing(api, moc):
    urls = initialized(
        api, moc, (declare("a.pdf", "instruction", PDF), PDF), (declare("b.pdf", "instruction", PDF), None)
    )

    response = finalize(api, moc.id, [(u["fileId"], True) for u in urls])

    error = assert_error(response, 400, "VALIDATION_ERROR", "Some files failed verification")
    assert error["details"]["fields"] == {"uploadedFiles": ["b.pdf: File was not uploaded"]}
    assert error["details"]["files"] == [
        {"fileId": urls[1]["fileId"], "filename": "b.pdf", "error": "File was not uploaded"}
    ]
    assert set(MocFile.objects.filter(moc=moc).values_list("status", flat=True)) == {"pending"}

    # The client can re-PUT and finalize again.
    put(urls[1], PDF)
    assert finalize(api, moc.id, [(u["fileId"], True) for u in urls]).status_code == 200
    assert set(MocFile.objects.filter(moc=moc).values_list("status", flat=True)) == {"ready"}


def test_finalize_checks_the_exact_declared_size(api, moc):
    [url] = initialized(api, moc, (declare("a.pdf", "instruction", PDF), PDF + b"extra"))
    error = assert_error(
        finalize(api, moc.id, [(url["fileId"], True)]), 400, "VALIDATION_ERROR", "Some files failed verification"
    )
    message = f"File size does not match the declared size ({len(PDF) + 5} bytes uploaded, {len(PDF)} declared)"
    assert error["details"]["files"][0]["error"] == message
    assert MocFile.objects.get(pk=url["fileId"]).status == "pending"


@pytest.mark.parametrize(
    ("entry", "content", "message"),
    [
        (declare("a.pdf", "instruction", b"x" * 40), b"x" * 40, "Unsupported file type. Allowed: .pdf, .io"),
        (declare("a.csv", "parts-list", PNG), PNG, "Unsupported file type. Allowed: .csv, .txt, .xml"),
        (declare("a.csv", "parts-list", b"<INVENTORY/>"), b"<INVENTORY/>", "File content does not match its extension or declared type"),
        (declare("a.jpg", "gallery-image", PNG), PNG, "File content does not match its extension or declared type"),
        (declare("a.png", "thumbnail", PNG[:60]), PNG[:60], "File is not a valid image"),
    ],
)  # fmt: skip
def test_finalize_sniffs_the_content(api, moc, entry, content, message):
    [url] = initialized(api, moc, (entry, content))
    error = assert_error(
        finalize(api, moc.id, [(url["fileId"], True)]), 400, "VALIDATION_ERROR", "Some files failed verification"
    )
    assert error["details"]["fields"] == {"uploadedFiles": [f"{entry['filename']}: {message}"]}
    assert MocFile.objects.get(pk=url["fileId"]).status == "pending"


def test_finalize_deletes_files_reported_failed(api, moc):
    urls = initialized(
        api, moc, (declare("a.pdf", "instruction", PDF), PDF), (declare("b.pdf", "instruction", PDF), PDF)
    )

    response = finalize(api, moc.id, [(urls[0]["fileId"], True), (urls[1]["fileId"], False)])

    assert response.status_code == 200, response.content
    assert [f["id"] for f in response.json()["data"]["files"]] == [urls[0]["fileId"]]
    assert not MocFile.objects.filter(pk=urls[1]["fileId"]).exists()
    assert stored_keys(moc_prefix(moc)) == [MocFile.objects.get(pk=urls[0]["fileId"]).file_url]


def test_finalize_needs_one_success(api, moc):
    [url] = initialized(api, moc, (declare("a.pdf", "instruction", PDF), None))
    response = finalize(api, moc.id, [(url["fileId"], False)])
    assert_error(
        response,
        400,
        "VALIDATION_ERROR",
        "No files were successfully uploaded",
        {"uploadedFiles": ["No files were successfully uploaded"]},
    )
    assert MocFile.objects.filter(pk=url["fileId"]).exists()


def test_finalize_rejects_files_of_another_moc(api, moc, owner):
    other = MocFileFactory(moc=MocFactory(user_id=owner), status=MocFileStatus.PENDING)
    response = finalize(api, moc.id, [(str(other.id), True)])
    assert_error(
        response, 400, "VALIDATION_ERROR", "Validation failed", {"uploadedFiles": [f"File not found: {other.id}"]}
    )


def test_finalize_body_rules(api, moc):
    error = assert_error(finalize(api, moc.id, []), 400, "VALIDATION_ERROR", "Validation failed")
    assert list(error["details"]["fields"]) == ["uploadedFiles"]
    response = api.post(f"/api/mocs/{moc.id}/finalize", {"uploadedFiles": [{"fileId": "nope"}]}, format="json")
    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert set(error["details"]["fields"]) == {"uploadedFiles.0.fileId", "uploadedFiles.0.success"}


def test_finalize_is_idempotent(api, moc):
    [url] = initialized(api, moc, (declare("a.pdf", "instruction", PDF), PDF))
    first = finalize(api, moc.id, [(url["fileId"], True)])
    second = finalize(api, moc.id, [(url["fileId"], True)])
    assert first.status_code == second.status_code == 200

    def without_url(files: list[dict]) -> list[dict]:  # a presigned URL is signed to the second: it may differ
        return [{key: value for key, value in file.items() if key != "fileUrl"} for file in files]

    assert without_url(first.json()["data"]["files"]) == without_url(second.json()["data"]["files"])
    assert [f["fileUrl"].split("?")[0] for f in first.json()["data"]["files"]] == [
        f["fileUrl"].split("?")[0] for f in second.json()["data"]["files"]
    ]
    assert MocFile.objects.filter(moc=moc).count() == 1


def test_first_verified_image_becomes_the_thumbnail_when_there_is_none(api, moc):
    urls = initialized(
        api,
        moc,
        (declare("a.pdf", "instruction", PDF), PDF),
        (declare("one.png", "gallery-image", PNG), PNG),
        (declare("two.jpg", "gallery-image", JPEG), JPEG),
    )
    response = finalize(api, moc.id, [(u["fileId"], True) for u in urls])
    assert response.status_code == 200, response.content
    one = MocFile.objects.get(pk=urls[1]["fileId"])
    assert one.file_type == "thumbnail"
    assert MocFile.objects.get(pk=urls[2]["fileId"]).file_type == "gallery-image"
    assert Moc.objects.get(pk=moc.pk).thumbnail_url == one.file_url


def test_explicit_thumbnail_replaces_the_current_one(api, moc):
    [old_url] = initialized(api, moc, (declare("old.png", "thumbnail", PNG), PNG))
    assert finalize(api, moc.id, [(old_url["fileId"], True)]).status_code == 200
    old = MocFile.objects.get(pk=old_url["fileId"])
    assert Moc.objects.get(pk=moc.pk).thumbnail_url == old.file_url

    [new_url] = initialized(api, moc, (declare("new.jpg", "thumbnail", JPEG), JPEG))
    response = finalize(api, moc.id, [(new_url["fileId"], True)])

    assert response.status_code == 200, response.content
    new = MocFile.objects.get(pk=new_url["fileId"])
    assert not MocFile.objects.filter(pk=old.pk).exists()
    assert Moc.objects.get(pk=moc.pk).thumbnail_url == new.file_url
    assert stored_keys(moc_prefix(moc)) == [new.file_url]
    assert [image["id"] for image in response.json()["data"]["images"]] == [str(new.id)]


def test_gallery_images_leave_an_existing_thumbnail_alone(api, moc):
    [thumb] = initialized(api, moc, (declare("cover.png", "thumbnail", PNG), PNG))
    finalize(api, moc.id, [(thumb["fileId"], True)])
    [image] = initialized(api, moc, (declare("side.png", "gallery-image", PNG), PNG))
    finalize(api, moc.id, [(image["fileId"], True)])
    assert MocFile.objects.get(pk=image["fileId"]).file_type == "gallery-image"
    assert Moc.objects.get(pk=moc.pk).thumbnail_url == MocFile.objects.get(pk=thumb["fileId"]).file_url


def test_finalize_owner_checks(api, other_api, anonymous, moc):
    file = MocFileFactory(moc=moc, status=MocFileStatus.PENDING)
    entries = [(str(file.id), True)]
    assert_error(finalize(other_api, moc.id, entries), 403, "FORBIDDEN", "You do not own this MOC")
    assert_error(finalize(anonymous, moc.id, entries), 401, "UNAUTHORIZED", "Authentication required")
    assert_error(finalize(api, uuid.uuid4(), entries), 404, "NOT_FOUND", "MOC not found")


def test_deleting_a_moc_deletes_pending_objects_too(api, moc):
    initialized(api, moc, (declare("a.pdf", "instruction", PDF), PDF))
    assert len(stored_keys(moc_prefix(moc))) == 1
    assert api.delete(f"/api/mocs/{moc.id}").status_code == 200
    assert stored_keys(moc_prefix(moc)) == []


# --- File-system storage: C5 stands in for the presigned PUT ------------------------------------------------------


class LocalUploadUrls:
    """The test URLconf plus C5, which `lego_api.urls` mounts only when the process starts without a bucket."""

    from tests.urls import urlpatterns as _base

    urlpatterns = [*_base, re_path(r"^local-uploads/(?P<token>[^/]+)/?$", local_upload, name="local-upload")]


@pytest.fixture
def file_system_storage(tmp_path):
    with override_settings(
        STORAGE_BUCKET=None,
        STORAGES={**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}},
        MEDIA_ROOT=str(tmp_path),
        ROOT_URLCONF=LocalUploadUrls,
    ):
        yield tmp_path


def test_presigned_flow_on_the_file_system(api, moc, client, file_system_storage):
    [upload_url] = initialize_files(api, moc, [declare("a.png", "gallery-image", PNG)]).json()["data"]["uploadUrls"]
    url = urlsplit(upload_url["uploadUrl"])
    assert url.path.startswith("/local-uploads/")
    assert upload_url["headers"] == {"Content-Type": "image/png"}

    wrong_type = client.generic("PUT", url.path, PNG, content_type="image/jpeg")
    assert wrong_type.status_code == 415
    uploaded = client.generic("PUT", url.path, PNG, content_type="image/png")
    assert (uploaded.status_code, uploaded.content) == (200, b"")

    response = finalize(api, moc.id, [(upload_url["fileId"], True)])

    assert response.status_code == 200, response.content
    file = MocFile.objects.get(pk=upload_url["fileId"])
    assert file.status == "ready"
    assert (file_system_storage / file.file_url).read_bytes() == PNG
    download = api.get(f"/api/mocs/{moc.id}/files/{file.id}/download?format=json").json()["data"]
    # The download name travels signed (SPEC §4.2 M13, §5.3; tests/core/test_safe_serving.py serves it).
    assert download["downloadUrl"].startswith(f"http://testserver/media/{file.file_url}?download=")
    assert (download["expiresIn"], download["expiresAt"]) == (None, None)
    redirect = api.get(f"/api/mocs/{moc.id}/files/{file.id}/download")
    assert (redirect.status_code, redirect["Location"]) == (302, download["downloadUrl"])


# --- Sweeper: uploads never finalized -----------------------------------------------------------------------------


def test_stale_pending_files_are_deleted_with_their_objects(api, moc):
    stale, fresh = initialized(
        api, moc, (declare("old.pdf", "instruction", PDF), PDF), (declare("new.pdf", "instruction", PDF), PDF)
    )
    ready = MocFileFactory(moc=moc, created_at=timezone.now() - dt.timedelta(days=3))
    MocFile.objects.filter(pk=stale["fileId"]).update(created_at=timezone.now() - dt.timedelta(hours=25))

    deleted = files_delete_stale_pending(older_than=timezone.now() - dt.timedelta(hours=24))

    assert deleted == 1
    assert set(MocFile.objects.filter(moc=moc).values_list("id", flat=True)) == {uuid.UUID(fresh["fileId"]), ready.id}
    assert stored_keys(moc_prefix(moc)) == [MocFile.objects.get(pk=fresh["fileId"]).file_url]
    assert files_delete_stale_pending(older_than=timezone.now() - dt.timedelta(hours=24)) == 0
