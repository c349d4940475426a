"""M11 multipart upload, M12 delete and M13 download of MOC files (SPEC §4.2, §5), against real SeaweedFS storage:
every accepted kind, every §5.2 failure, per-MOC caps, partial success of multi-file uploads, thumbnails, and
proof from a bucket listing that a failed file leaves no object behind."""

from __future__ import annotations

import uuid

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from lego_api.core import storage
from mocs.models import Moc, MocFile, MocFileStatus, MocPartsList
from tests.factories import MocFactory, MocFileFactory, MocPartsListFactory
from tests.helpers import assert_error, failing_insert, moc_prefix, stored_keys
from tests.samples import CSV, PDF, XML, image_bytes, studio_bytes

# Real transactions: uploads commit, after-commit deletions run, and savepoints behave as in production.
pytestmark = pytest.mark.django_db(transaction=True)

MB = 1_048_576


# --- Content made in code ---------------------------------------------------------------------------------------


JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")
WEBP = image_bytes("WEBP")


def part(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- Storage and request helpers -----------------------------------------------------------------------------------


def read_object(key: str) -> bytes:
    with storage.open_object(key) as file:
        return file.read()


def upload(api, moc: Moc, data: dict):
    return api.post(f"/api/mocs/{moc.id}/files", data, format="multipart")


# --- M11: one file -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_type", "filename", "data", "declared", "extension", "mime_type"),
    [
        ("instruction", "Coffee Truck.pdf", PDF, "application/pdf", "pdf", "application/pdf"),
        ("instruction", "truck.io", studio_bytes(), "application/octet-stream", "io", "application/zip"),
        ("parts-list", "bricks.csv", CSV, "text/csv", "csv", "text/csv"),
        ("parts-list", "bricks.txt", CSV, "text/plain", "txt", "text/plain"),
        ("parts-list", "wanted.xml", XML, "application/xml", "xml", "application/xml"),
        ("gallery-image", "side.jpeg", JPEG, "image/jpeg", "jpg", "image/jpeg"),
        ("gallery-image", "side.png", PNG, "image/png", "png", "image/png"),
        ("gallery-image", "side.webp", WEBP, "image/webp", "webp", "image/webp"),
        ("thumbnail", "cover.jpg", JPEG, "image/jpeg", "jpg", "image/jpeg"),
    ],
)
def test_owner_uploads_each_accepted_kind(api, moc, file_type, filename, data, declared, extension, mime_type):
    response = upload(api, moc, {"file": part(filename, data, declared), "fileType": file_type})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "File uploaded successfully"
    file = body["data"]
    row = MocFile.objects.get(pk=file["id"])
    key = f"mocs/{moc.user_id}/{moc.id}/{row.id}.{extension}"
    assert row.file_url == key
    assert file["mocId"] == str(moc.id)
    assert file["fileType"] == file_type
    assert file["originalFilename"] == filename
    assert file["mimeType"] == mime_type
    assert file["fileSize"] == len(data)
    assert file["status"] == "ready"
    assert file["fileUrl"].startswith("http") and key in file["fileUrl"]
    assert stored_keys(moc_prefix(moc)) == [key]
    assert read_object(key) == data
    if mime_type.startswith("image/"):  # anything else is stored as a download (tests/core/test_safe_serving.py)
        assert storage.head(key).content_type == mime_type


def test_parts_list_file_is_parsed_inline_into_a_ready_list(api, moc):
    response = upload(api, moc, {"file": part("bricks.csv", CSV, "text/csv"), "fileType": "parts-list"})

    assert response.status_code == 201, response.content
    parts_list = MocPartsList.objects.get(moc=moc)
    assert str(parts_list.file_id) == response.json()["data"]["id"]
    assert parts_list.status == "ready"
    assert parts_list.format == "standard-csv"
    assert parts_list.title == "Parts List - bricks.csv"
    assert (parts_list.row_count, parts_list.total_parts_count, parts_list.unique_parts_count) == (3, 7, 2)
    assert parts_list.parts.count() == 3
    moc.refresh_from_db()
    assert moc.total_piece_count == 7


def test_upload_touches_the_moc(api, moc):
    before = moc.updated_at
    response = upload(api, moc, {"file": part("a.pdf", PDF), "fileType": "instruction"})
    assert response.status_code == 201
    moc.refresh_from_db()
    assert moc.updated_at > before


def test_thumbnail_upload_sets_thumbnail_url_and_replaces_the_old_one(api, moc):
    first = upload(api, moc, {"file": part("one.png", PNG), "fileType": "thumbnail"}).json()["data"]
    first_key = MocFile.objects.get(pk=first["id"]).file_url
    moc.refresh_from_db()
    assert moc.thumbnail_url == first_key

    second = upload(api, moc, {"file": part("two.jpg", JPEG), "fileType": "thumbnail"})

    assert second.status_code == 201
    second_key = MocFile.objects.get(pk=second.json()["data"]["id"]).file_url
    moc.refresh_from_db()
    assert moc.thumbnail_url == second_key
    assert not MocFile.objects.filter(pk=first["id"]).exists()
    assert stored_keys(moc_prefix(moc)) == [second_key]
    detail = api.get(f"/api/mocs/{moc.id}").json()["data"]
    if "images" in detail:  # M4 is another module's route; when served, it shows the one thumbnail
        assert [image["id"] for image in detail["images"]] == [second.json()["data"]["id"]]


def test_thumbnail_replacement_keeps_a_client_url_out_of_storage(api, owner):
    moc = MocFactory(user_id=owner, thumbnail_url="https://example.com/cover.png")
    response = upload(api, moc, {"file": part("cover.webp", WEBP), "fileType": "thumbnail"})
    assert response.status_code == 201
    moc.refresh_from_db()
    assert moc.thumbnail_url == MocFile.objects.get(pk=response.json()["data"]["id"]).file_url


# --- M11: one file, every error maps directly ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_type", "filename", "data", "declared", "status", "error_type", "message"),
    [
        # Content that is not what the kind allows (magic bytes decide): 415.
        ("instruction", "manual.pdf", b"just some text, no signature", None, 415, "UNSUPPORTED_MEDIA_TYPE",
         "Unsupported file type. Allowed: .pdf, .io"),
        ("gallery-image", "photo.jpg", PDF, None, 415, "UNSUPPORTED_MEDIA_TYPE",
         "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp"),
        ("parts-list", "bricks.csv", PNG, None, 415, "UNSUPPORTED_MEDIA_TYPE",
         "Unsupported file type. Allowed: .csv, .txt, .xml"),
        ("instruction", "manual.docx", PDF, None, 415, "UNSUPPORTED_MEDIA_TYPE",
         "Unsupported file type. Allowed: .pdf, .io"),
        # Extension or declared type disagreeing with the content: 400.
        ("gallery-image", "photo.jpg", PNG, None, 400, "VALIDATION_ERROR",
         "File content does not match its extension or declared type"),
        ("gallery-image", "photo.png", PNG, "image/jpeg", 400, "VALIDATION_ERROR",
         "File content does not match its extension or declared type"),
        ("parts-list", "wanted.csv", XML, None, 400, "VALIDATION_ERROR",
         "File content does not match its extension or declared type"),
        ("instruction", "truck.io", PDF, None, 400, "VALIDATION_ERROR",
         "File content does not match its extension or declared type"),
        # Empty and undecodable images.
        ("instruction", "empty.pdf", b"", None, 400, "VALIDATION_ERROR", "File is empty"),
        ("thumbnail", "broken.png", PNG[:40], None, 400, "VALIDATION_ERROR", "File is not a valid image"),
    ],
)  # fmt: skip
def test_single_file_check_failures_map_directly(
    api, moc, file_type, filename, data, declared, status, error_type, message
):
    response = upload(
        api, moc, {"file": part(filename, data, declared or "application/octet-stream"), "fileType": file_type}
    )

    assert_error(response, status, error_type, message, {"file": [message]})
    assert not MocFile.objects.filter(moc=moc).exists()
    assert stored_keys(moc_prefix(moc)) == []


@pytest.mark.parametrize(
    ("file_type", "filename", "max_mb"),
    [("gallery-image", "big.png", 10), ("thumbnail", "big.png", 10), ("parts-list", "big.csv", 10)],
)
def test_single_file_over_its_kind_maximum_is_413(api, moc, file_type, filename, max_mb):
    data = (PNG if filename.endswith(".png") else CSV).ljust(max_mb * MB + 1, b"0")
    message = f"File too large (max {max_mb} MB)"
    response = upload(api, moc, {"file": part(filename, data), "fileType": file_type})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE", message, {"file": [message]})
    assert stored_keys(moc_prefix(moc)) == []


def test_single_parts_list_that_fails_to_parse_is_400_under_file(api, moc):
    content = b"Part ID,Part Name,Quantity,Color\n3001,Brick 2 x 4,4,Red\n,Plate 2 x 4,2,Black\n3020,Plate,two,Black\n"
    response = upload(api, moc, {"file": part("bricks.csv", content, "text/csv"), "fileType": "parts-list"})

    error = assert_error(response, 400, "VALIDATION_ERROR", "Failed to parse parts list file")
    assert error["details"]["fields"] == {
        "file": [
            "Line 3: part id is required",
            'Line 4: quantity must be a whole number between 1 and 100000 (got "two")',
        ]
    }
    assert error["details"]["errorCount"] == 2
    assert error["details"]["format"] == "standard-csv"
    assert not MocFile.objects.filter(moc=moc).exists()
    assert not MocPartsList.objects.filter(moc=moc).exists()
    assert stored_keys(moc_prefix(moc)) == []


def test_file_type_is_required(api, moc):
    response = upload(api, moc, {"file": part("a.pdf", PDF)})
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", {"fileType": ["This field is required."]})


def test_file_type_must_be_one_of_the_four(api, moc):
    response = upload(api, moc, {"file": part("a.pdf", PDF), "fileType": "manual"})
    assert_error(
        response, 400, "VALIDATION_ERROR", "Validation failed", {"fileType": ['"manual" is not a valid choice.']}
    )


def test_own_file_type_field_wins_over_the_shared_one(api, moc):
    response = upload(api, moc, {"file": part("a.png", PNG), "fileType": "instruction", "fileType_0": "gallery-image"})
    assert response.status_code == 201, response.content
    assert response.json()["data"]["fileType"] == "gallery-image"


def test_no_file_is_400(api, moc):
    response = upload(api, moc, {"fileType": "instruction"})
    assert_error(response, 400, "VALIDATION_ERROR", "No files provided", {"files": ["No files provided"]})


def test_file_under_an_unlisted_field_is_400(api, moc):
    response = upload(api, moc, {"document": part("a.pdf", PDF), "fileType": "instruction"})
    assert_error(response, 400, "VALIDATION_ERROR", "Unexpected file field", {"document": ["Unexpected file field"]})
    assert stored_keys(moc_prefix(moc)) == []


def test_eleven_files_are_400(api, moc):
    files = [part(f"{n}.pdf", PDF) for n in range(11)]
    response = upload(api, moc, {"files": files, "fileType": "instruction"})
    assert_error(
        response,
        400,
        "VALIDATION_ERROR",
        "At most 10 files per request",
        {"nonFieldErrors": ["At most 10 files per request"]},
    )
    assert stored_keys(moc_prefix(moc)) == []


def test_several_files_over_50_mb_in_total_are_413(api, moc):
    big = CSV + b"3001,1,Red\n" * ((9 * MB) // 11)  # ~9 MB each, six of them: 54 MB
    files = [part(f"{n}.csv", big, "text/csv") for n in range(6)]
    response = upload(api, moc, {"files": files, "fileType": "parts-list"})
    message = "Files too large (max 50 MB in total)"
    assert_error(response, 413, "PAYLOAD_TOO_LARGE", message, {"nonFieldErrors": [message]})
    assert stored_keys(moc_prefix(moc)) == []


def test_wrong_content_type_is_415(api, moc):
    response = api.post(f"/api/mocs/{moc.id}/files", {"fileType": "instruction"}, format="json")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be multipart/form-data")


# --- M11: per-MOC caps -------------------------------------------------------------------------------------------------


def test_eleventh_instruction_file_is_409(api, moc):
    MocFileFactory.create_batch(9, moc=moc)
    MocFileFactory(moc=moc, status=MocFileStatus.PENDING)  # pending files count too
    response = upload(api, moc, {"file": part("a.pdf", PDF), "fileType": "instruction"})
    assert_error(response, 409, "CONFLICT", "MOC already has 10 instruction files")
    assert stored_keys(moc_prefix(moc)) == []


def test_eleventh_gallery_image_is_409(api, moc):
    MocFileFactory.create_batch(10, moc=moc, file_type="gallery-image", mime_type="image/png")
    response = upload(api, moc, {"file": part("a.png", PNG), "fileType": "gallery-image"})
    assert_error(response, 409, "CONFLICT", "MOC already has 10 gallery images")


def test_eleventh_parts_list_is_409(api, moc):
    MocPartsListFactory.create_batch(10, moc=moc)
    response = upload(api, moc, {"file": part("bricks.csv", CSV), "fileType": "parts-list"})
    assert_error(response, 409, "CONFLICT", "A MOC can have at most 10 parts lists")
    assert stored_keys(moc_prefix(moc)) == []


def test_thumbnails_have_no_cap(api, moc):
    MocFileFactory.create_batch(10, moc=moc, file_type="gallery-image")
    assert upload(api, moc, {"file": part("a.png", PNG), "fileType": "thumbnail"}).status_code == 201


# --- M11: several files ------------------------------------------------------------------------------------------------


def test_several_files_all_stored(api, moc):
    response = upload(
        api,
        moc,
        {
            "files": [part("a.pdf", PDF), part("b.csv", CSV, "text/csv"), part("c.png", PNG)],
            "fileType": "instruction",
            "fileType_1": "parts-list",
            "fileType_2": "gallery-image",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "3 of 3 files uploaded"
    assert [f["fileType"] for f in body["data"]["uploaded"]] == ["instruction", "parts-list", "gallery-image"]
    assert body["data"]["failed"] == []
    assert body["data"]["summary"] == {"total": 3, "succeeded": 3, "failed": 0}
    assert len(stored_keys(moc_prefix(moc))) == 3
    assert MocPartsList.objects.filter(moc=moc, status="ready").count() == 1


def test_one_bad_file_fails_alone_and_leaves_no_row_and_no_object(api, moc):
    response = upload(
        api,
        moc,
        {
            "files": [part("a.pdf", PDF), part("fake.png", b"not an image at all"), part("c.jpg", JPEG)],
            "fileType": "gallery-image",
            "fileType_0": "instruction",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "2 of 3 files uploaded"
    assert body["data"]["failed"] == [
        {"filename": "fake.png", "error": "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp"}
    ]
    assert body["data"]["summary"] == {"total": 3, "succeeded": 2, "failed": 1}
    rows = MocFile.objects.filter(moc=moc)
    assert sorted(row.original_filename for row in rows) == ["a.pdf", "c.jpg"]
    assert stored_keys(moc_prefix(moc)) == sorted(row.file_url for row in rows)


def test_a_parse_failure_and_a_cap_fail_alone(api, moc):
    MocFileFactory.create_batch(9, moc=moc)
    response = upload(
        api,
        moc,
        {
            "files": [part("a.pdf", PDF), part("b.pdf", PDF), part("bad.csv", b"Part ID,Quantity\n3001,zero\n")],
            "fileType": "instruction",
            "fileType_2": "parts-list",
        },
    )

    assert response.status_code == 201, response.content
    failed = response.json()["data"]["failed"]
    assert failed == [
        {"filename": "b.pdf", "error": "MOC already has 10 instruction files"},
        {
            "filename": "bad.csv",
            "error": 'Failed to parse parts list file: Line 2: quantity must be a whole number between 1 and 100000 (got "zero")',
        },
    ]
    assert len(stored_keys(moc_prefix(moc))) == 1
    assert not MocPartsList.objects.filter(moc=moc).exists()


def test_missing_type_of_one_file_fails_that_file(api, moc):
    response = upload(api, moc, {"files": [part("a.pdf", PDF), part("b.pdf", PDF)], "fileType_0": "instruction"})
    assert response.status_code == 201
    assert response.json()["data"]["failed"] == [{"filename": "b.pdf", "error": "fileType: This field is required."}]


def test_none_stored_is_400_with_every_failure(api, moc):
    response = upload(
        api,
        moc,
        {"files": [part("a.png", PDF), part("b.pdf", b"")], "fileType": "instruction", "fileType_0": "thumbnail"},
    )

    error = assert_error(response, 400, "VALIDATION_ERROR", "No files were uploaded")
    assert error["details"]["failed"] == [
        {"filename": "a.png", "error": "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp"},
        {"filename": "b.pdf", "error": "File is empty"},
    ]
    assert error["details"]["fields"] == {
        "files": ["a.png: Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp", "b.pdf: File is empty"]
    }
    assert stored_keys(moc_prefix(moc)) == []
    moc_before = moc.updated_at
    moc.refresh_from_db()
    assert moc.updated_at == moc_before


# --- M11: who may upload -----------------------------------------------------------------------------------------------


def test_other_user_gets_403(other_api, moc):
    response = upload(other_api, moc, {"file": part("a.pdf", PDF), "fileType": "instruction"})
    assert_error(response, 403, "FORBIDDEN", "You do not own this MOC")
    assert stored_keys(moc_prefix(moc)) == []


def test_anonymous_gets_401(anonymous, moc):
    response = anonymous.post(f"/api/mocs/{moc.id}/files", {"file": part("a.pdf", PDF)}, format="multipart")
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")


def test_missing_moc_gets_404(api):
    response = api.post(f"/api/mocs/{uuid.uuid4()}/files", {"file": part("a.pdf", PDF)}, format="multipart")
    assert_error(response, 404, "NOT_FOUND", "MOC not found")


# --- M12: delete -------------------------------------------------------------------------------------------------------


def stored_file(api, moc: Moc, name: str, data: bytes, file_type: str) -> MocFile:
    response = upload(api, moc, {"file": part(name, data), "fileType": file_type})
    assert response.status_code == 201, response.content
    return MocFile.objects.get(pk=response.json()["data"]["id"])


def test_owner_deletes_a_file_with_its_object(api, moc):
    file = stored_file(api, moc, "a.pdf", PDF, "instruction")
    keep = stored_file(api, moc, "b.pdf", PDF, "instruction")
    before = Moc.objects.get(pk=moc.pk).updated_at

    response = api.delete(f"/api/mocs/{moc.id}/files/{file.id}")

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "message": "File deleted successfully",
        "data": {"id": str(file.id)},
        "timestamp": response.json()["timestamp"],
    }
    assert not MocFile.objects.filter(pk=file.id).exists()
    assert stored_keys(moc_prefix(moc)) == [keep.file_url]
    assert Moc.objects.get(pk=moc.pk).updated_at > before


def test_deleting_the_thumbnail_file_clears_thumbnail_url(api, moc):
    file = stored_file(api, moc, "cover.png", PNG, "thumbnail")
    assert Moc.objects.get(pk=moc.pk).thumbnail_url == file.file_url
    assert api.delete(f"/api/mocs/{moc.id}/files/{file.id}").status_code == 200
    assert Moc.objects.get(pk=moc.pk).thumbnail_url is None
    assert stored_keys(moc_prefix(moc)) == []


def test_deleting_a_parts_list_file_keeps_the_list(api, moc):
    file = stored_file(api, moc, "bricks.csv", CSV, "parts-list")
    assert api.delete(f"/api/mocs/{moc.id}/files/{file.id}").status_code == 200
    parts_list = MocPartsList.objects.get(moc=moc)
    assert parts_list.file_id is None
    assert parts_list.status == "ready"
    assert Moc.objects.get(pk=moc.pk).total_piece_count == 7


def test_pending_files_can_be_deleted(api, moc):
    file = MocFileFactory(moc=moc, status=MocFileStatus.PENDING)
    assert api.delete(f"/api/mocs/{moc.id}/files/{file.id}").status_code == 200
    assert not MocFile.objects.filter(pk=file.id).exists()


def test_deleting_the_moc_deletes_its_objects(api, moc):
    stored_file(api, moc, "a.pdf", PDF, "instruction")
    stored_file(api, moc, "b.csv", CSV, "parts-list")
    assert len(stored_keys(moc_prefix(moc))) == 2
    response = api.delete(f"/api/mocs/{moc.id}")
    assert response.status_code == 200
    assert stored_keys(moc_prefix(moc)) == []


def test_delete_file_errors(api, other_api, anonymous, moc, owner):
    other_moc = MocFactory(user_id=owner)
    foreign = MocFileFactory(moc=other_moc)
    file = MocFileFactory(moc=moc)
    assert_error(api.delete(f"/api/mocs/{moc.id}/files/{foreign.id}"), 404, "NOT_FOUND", "File not found")
    assert_error(api.delete(f"/api/mocs/{moc.id}/files/{uuid.uuid4()}"), 404, "NOT_FOUND", "File not found")
    assert_error(api.delete(f"/api/mocs/{uuid.uuid4()}/files/{file.id}"), 404, "NOT_FOUND", "MOC not found")
    assert_error(
        other_api.delete(f"/api/mocs/{moc.id}/files/{file.id}"),
        403,
        "FORBIDDEN",
        "You do not own this MOC",
    )
    assert_error(
        anonymous.delete(f"/api/mocs/{moc.id}/files/{file.id}"), 401, "UNAUTHORIZED", "Authentication required"
    )
    assert MocFile.objects.filter(pk__in=[foreign.id, file.id]).count() == 2


# --- M13: download -----------------------------------------------------------------------------------------------------


def test_download_redirects_to_a_presigned_url_that_serves_the_file(api, moc):
    file = stored_file(api, moc, "Café Truck.pdf", PDF, "instruction")

    response = api.get(f"/api/mocs/{moc.id}/files/{file.id}/download")

    assert response.status_code == 302
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"
    location = response["Location"]
    assert "X-Amz-Signature=" in location
    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == PDF
    assert fetched.headers["Content-Type"] == "application/octet-stream"  # SPEC §5.3: never rendered inline
    assert fetched.headers["Content-Disposition"] == (
        "attachment; filename=\"Cafe Truck.pdf\"; filename*=UTF-8''Caf%C3%A9%20Truck.pdf"
    )


def test_download_as_json(api, moc):
    file = stored_file(api, moc, "a.png", PNG, "gallery-image")

    response = api.get(f"/api/mocs/{moc.id}/files/{file.id}/download?format=json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"downloadUrl", "filename", "mimeType", "fileSize", "expiresIn", "expiresAt"}
    assert data["filename"] == "a.png"
    assert data["mimeType"] == "image/png"
    assert data["fileSize"] == len(PNG)
    assert data["expiresIn"] == 3600
    assert data["expiresAt"].endswith("Z")
    assert requests.get(data["downloadUrl"], timeout=10).content == PNG


def test_download_of_a_pending_file_is_404(api, moc):
    file = MocFileFactory(moc=moc, status=MocFileStatus.PENDING)
    assert_error(api.get(f"/api/mocs/{moc.id}/files/{file.id}/download"), 404, "NOT_FOUND", "File not found")


def test_download_with_a_bad_format_is_400(api, moc):
    file = MocFileFactory(moc=moc)
    response = api.get(f"/api/mocs/{moc.id}/files/{file.id}/download?format=pdf")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", {"format": ['"pdf" is not a valid choice.']})


def test_download_errors(api, other_api, anonymous, moc, owner):
    file = MocFileFactory(moc=moc)
    foreign = MocFileFactory(moc=MocFactory(user_id=owner))
    url = f"/api/mocs/{moc.id}/files/{file.id}/download"
    assert_error(api.get(f"/api/mocs/{moc.id}/files/{foreign.id}/download"), 404, "NOT_FOUND", "File not found")
    assert_error(api.get(f"/api/mocs/{uuid.uuid4()}/files/{file.id}/download"), 404, "NOT_FOUND", "MOC not found")
    assert_error(other_api.get(url), 403, "FORBIDDEN", "You do not own this MOC")
    assert_error(anonymous.get(url), 401, "UNAUTHORIZED", "Authentication required")


# --- Nothing half-written when the database fails after the object write --------------------------------------------


@pytest.fixture
def explode_on_insert(django_db_blocker):
    """Inserting a file row named `explode.pdf` fails, after its object is written."""
    with failing_insert(django_db_blocker, table="moc_files", when="NEW.original_filename = 'explode.pdf'"):
        yield


def test_a_database_failure_after_the_object_write_deletes_the_object(api, moc, explode_on_insert):
    response = upload(api, moc, {"file": part("explode.pdf", PDF), "fileType": "instruction"})
    assert_error(response, 500, "INTERNAL_ERROR", "An unexpected error occurred")
    assert not MocFile.objects.filter(moc=moc).exists()
    assert stored_keys(moc_prefix(moc)) == []


def test_an_unexpected_failure_in_a_multi_file_upload_keeps_nothing(api, moc, explode_on_insert):
    files = [part("a.pdf", PDF), part("b.png", PNG), part("explode.pdf", PDF)]
    response = upload(api, moc, {"files": files, "fileType": "instruction", "fileType_1": "thumbnail"})
    assert_error(response, 500, "INTERNAL_ERROR", "An unexpected error occurred")
    assert not MocFile.objects.filter(moc=moc).exists()
    assert Moc.objects.get(pk=moc.pk).thumbnail_url is None
    assert stored_keys(moc_prefix(moc)) == []
