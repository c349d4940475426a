"""M7 `POST /api/mocs/with-files` (SPEC §4.2): a multipart create that is all or nothing, with its order of checks,
file-name-prefixed file errors, the first image as thumbnail and parsed parts lists; storage is real SeaweedFS."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mocs.models import Moc, MocFile, MocPartsList
from tests.factories import MocFactory
from tests.helpers import assert_error, failing_insert, stored_keys, user_prefix
from tests.samples import CSV, PDF, XML, image_bytes, studio_bytes

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1_048_576
URL = "/api/mocs/with-files"


JPEG, PNG, WEBP = image_bytes("JPEG"), image_bytes("PNG"), image_bytes("WEBP")


def part(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def moc_fields(**overrides) -> dict:
    fields = {
        "type": "moc",
        "title": "Coffee Truck",
        "author": "Jane Builder",
        "partsCount": "328",
        "theme": "City",
        "setNumber": "MOC-210134",
        "tags": ["Food", "vehicle"],
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not None}


def create(api, **data):
    return api.post(URL, data, format="multipart")


def assert_nothing_kept(owner: str) -> None:
    assert not Moc.objects.filter(user_id=owner).exists()
    assert not MocFile.objects.filter(moc__user_id=owner).exists()
    assert stored_keys(user_prefix(owner)) == []


# --- Success ---------------------------------------------------------------------------------------------------------


def test_create_with_every_kind_of_file(api, owner):
    response = create(
        api,
        **moc_fields(),
        instructionsFile=[part("truck.pdf", PDF, "application/pdf"), part("truck.io", studio_bytes())],
        partsLists=[part("bricks.csv", CSV, "text/csv"), part("wanted.xml", XML, "text/xml")],
        images=[part("front.jpg", JPEG, "image/jpeg"), part("side.png", PNG), part("back.webp", WEBP)],
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "MOC created successfully with files"
    data = body["data"]
    moc = Moc.objects.get(pk=data["id"])
    assert (data["title"], data["partsCount"], data["tags"]) == ("Coffee Truck", 328, ["food", "vehicle"])
    files = {file["originalFilename"]: file for file in data["files"]}
    assert {name: file["fileType"] for name, file in files.items()} == {
        "truck.pdf": "instruction",
        "truck.io": "instruction",
        "bricks.csv": "parts-list",
        "wanted.xml": "parts-list",
        "front.jpg": "thumbnail",
        "side.png": "gallery-image",
        "back.webp": "gallery-image",
    }
    thumbnail = MocFile.objects.get(pk=files["front.jpg"]["id"])
    assert moc.thumbnail_url == thumbnail.file_url
    assert thumbnail.file_url in data["thumbnailUrl"]
    assert [image["alt"] for image in data["images"]] == ["front.jpg", "side.png", "back.webp"]
    assert [pl["status"] for pl in data["partsLists"]] == ["ready", "ready"]
    assert sorted(pl["totalPartsCount"] for pl in data["partsLists"]) == [7, 14]
    assert data["totalPieceCount"] == 21
    assert stored_keys(user_prefix(owner)) == sorted(MocFile.objects.filter(moc=moc).values_list("file_url", flat=True))
    assert len(stored_keys(user_prefix(owner))) == 7


def test_one_instruction_file_is_enough(api):
    response = create(api, **moc_fields(), instructionsFile=part("a.pdf", PDF))
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["thumbnailUrl"] is None
    assert data["partsLists"] == [] and data["totalPieceCount"] is None


def test_a_set_with_multipart_types(api):
    fields = moc_fields(
        type="set", author=None, partsCount=None, brand="LEGO", setNumber="10294", releaseYear="2020", retired="TRUE"
    )
    fields["tags"] = '["castle", "Space"]'
    response = create(api, **fields, instructionsFile=part("a.pdf", PDF))
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["type"], data["releaseYear"], data["retired"], data["tags"]) == (
        "set",
        2020,
        True,
        ["castle", "space"],
    )


# --- Order of checks ---------------------------------------------------------------------------------------------------


def test_field_errors_come_first(api, owner):
    MocFactory(user_id=owner, title="Coffee Truck")
    response = create(api, **moc_fields(partsCount="3.5"), instructionsFile=part("a.png", PDF))
    assert_error(
        response, 400, "VALIDATION_ERROR", "Validation failed", {"partsCount": ["A valid integer is required."]}
    )


def test_duplicate_title_is_409_before_file_checks(api, owner):
    MocFactory(user_id=owner, title="Coffee Truck")
    response = create(api, **moc_fields())
    assert_error(response, 409, "CONFLICT", "A MOC with this title already exists")
    assert Moc.objects.filter(user_id=owner).count() == 1


def test_an_instruction_file_is_required(api, owner):
    response = create(api, **moc_fields(), images=part("a.png", PNG))
    assert_error(
        response,
        400,
        "VALIDATION_ERROR",
        "Validation failed",
        {"instructionsFile": ["At least one instruction file is required"]},
    )
    assert_nothing_kept(owner)


def test_at_most_three_images(api, owner):
    images = [part(f"{n}.png", PNG) for n in range(4)]
    response = create(api, **moc_fields(), instructionsFile=part("a.pdf", PDF), images=images)
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", {"images": ["At most 3 images are allowed"]})


def test_at_most_ten_files(api, owner):
    response = create(
        api,
        **moc_fields(),
        instructionsFile=[part(f"{n}.pdf", PDF) for n in range(8)],
        partsLists=[part(f"{n}.csv", CSV) for n in range(3)],
    )
    assert_error(
        response,
        400,
        "VALIDATION_ERROR",
        "At most 10 files per request",
        {"nonFieldErrors": ["At most 10 files per request"]},
    )
    assert_nothing_kept(owner)


def test_unexpected_file_field(api, owner):
    response = create(api, **moc_fields(), instructionsFile=part("a.pdf", PDF), thumbnail=part("a.png", PNG))
    assert_error(response, 400, "VALIDATION_ERROR", "Unexpected file field", {"thumbnail": ["Unexpected file field"]})
    assert_nothing_kept(owner)


# --- File errors: all 400, prefixed by the file name, nothing kept ----------------------------------------------------


def test_every_file_error_is_400_with_the_file_name(api, owner):
    bad_csv = b"Part ID,Part Name,Quantity,Color\n3001,Brick,3.5,Red\n"
    response = create(
        api,
        **moc_fields(),
        instructionsFile=[part("good.pdf", PDF), part("notes.pdf", b"plain text")],
        partsLists=[part("bricks.csv", bad_csv, "text/csv"), part("big.csv", CSV.ljust(10 * MB + 1, b"0"))],
        images=[part("photo.png", JPEG), part("fine.webp", WEBP)],
    )

    assert_error(
        response,
        400,
        "VALIDATION_ERROR",
        "Validation failed",
        {
            "instructionsFile": ["notes.pdf: Unsupported file type. Allowed: .pdf, .io"],
            "partsLists": [
                'bricks.csv: Line 2: quantity must be a whole number between 1 and 100000 (got "3.5")',
                "big.csv: File too large (max 10 MB)",
            ],
            "images": ["photo.png: File content does not match its extension or declared type"],
        },
    )
    assert_nothing_kept(owner)


def test_a_bad_image_is_400_not_415(api, owner):
    response = create(
        api, **moc_fields(), instructionsFile=part("a.pdf", PDF), images=part("a.gif", b"GIF89a" + b"\0" * 20)
    )
    assert_error(
        response,
        400,
        "VALIDATION_ERROR",
        "Validation failed",
        {"images": ["a.gif: Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp"]},
    )


def test_over_50_mb_in_total_is_413(api, owner):
    big = PDF.ljust(26 * MB, b"0")
    response = create(api, **moc_fields(), instructionsFile=[part("a.pdf", big), part("b.pdf", big)])
    message = "Files too large (max 50 MB in total)"
    assert_error(response, 413, "PAYLOAD_TOO_LARGE", message, {"nonFieldErrors": [message]})
    assert_nothing_kept(owner)


@pytest.fixture
def failing_parts_insert(django_db_blocker):
    """Inserting part `BOOM` fails, after every object of the create is written."""
    with failing_insert(django_db_blocker, table="moc_parts", when="NEW.part_id = 'BOOM'"):
        yield


def test_a_failure_while_storing_keeps_nothing(api, owner, failing_parts_insert):
    response = create(
        api,
        **moc_fields(),
        instructionsFile=part("a.pdf", PDF),
        images=part("a.png", PNG),
        partsLists=[part("ok.csv", CSV), part("boom.csv", b"partId,quantity\nBOOM,1\n")],
    )
    assert_error(response, 500, "INTERNAL_ERROR", "An unexpected error occurred")
    assert_nothing_kept(owner)
    assert not MocPartsList.objects.filter(moc__user_id=owner).exists()


# --- Who may create ------------------------------------------------------------------------------------------------------


def test_anonymous_gets_401(anonymous):
    response = anonymous.post(URL, {**moc_fields(), "instructionsFile": part("a.pdf", PDF)}, format="multipart")
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")


def test_json_body_is_415(api):
    response = api.post(URL, moc_fields(), format="json")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be multipart/form-data")
