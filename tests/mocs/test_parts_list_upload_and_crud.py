"""Parts-list routes M17-M25 (SPEC §4.2, §5.6): uploads in every format, the all-or-nothing rule, totals, manual
lists, paging, edits, deletes, and the ownership rules of every route."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from lego_api.core import cache as response_cache
from mocs.models import Moc, MocFile, MocPart, MocPartsList
from tests.factories import MocFactory, MocFileFactory, MocPartFactory, MocPartsListFactory
from tests.helpers import assert_error, moc_prefix, stored_keys
from tests.samples import SPEC_ERROR_CSV, SPEC_ERROR_DETAILS, SPEC_ERROR_FIELD_MESSAGES
from tools import devstack

pytestmark = pytest.mark.django_db

# --- Helpers -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartsFile:
    """A parts-list file as a client would send it, and what parsing it must give."""

    filename: str
    content_type: str
    content: bytes
    format: str
    rows: int
    total: int
    unique: int
    lines: list[int]
    first_part: dict

    def upload(self, name: str | None = None) -> SimpleUploadedFile:
        return SimpleUploadedFile(name or self.filename, self.content, content_type=self.content_type)


PICK_A_BRICK = PartsFile(
    filename="pick-a-brick.csv",
    content_type="text/csv",
    content=b"elementId,quantity\r\n6168620,1\r\n300526,9\r\n6065496,1\r\n300426,5\r\n",
    format="pick-a-brick-csv",
    rows=4,
    total=16,
    unique=4,
    lines=[2, 3, 4, 5],
    first_part={"partId": "6168620", "quantity": 1, "color": None, "partName": None, "isSpare": False},
)
ALIASED_HEADER = PartsFile(
    filename="inventory.txt",
    content_type="text/plain",
    content=(
        b"Part_Number;QTY;Colour;Desc;Spare;Cat\n"
        b"3001;4;Red;Brick 2 x 4;no;Bricks\n"
        b"\n"
        b"3001;2;Red;Brick 2 x 4;yes;Bricks\n"
        b"3020;3;Black;Plate 2 x 4;;Plates\n"
    ),
    format="generic-csv",
    rows=3,
    total=7,
    unique=2,
    lines=[2, 4, 5],
    first_part={"partId": "3001", "quantity": 4, "color": "Red", "partName": "Brick 2 x 4", "category": "Bricks"},
)
STANDARD = PartsFile(
    filename="prd-export.csv",
    content_type="text/csv",
    content=b"Part ID,Part Name,Quantity,Color\n3001,Brick 2 x 4,4,Red\n3020,Plate 2 x 4,2,Black\n3001,Brick 2 x 4,1,Red\n",
    format="standard-csv",
    rows=3,
    total=7,
    unique=2,
    lines=[2, 3, 4],
    first_part={"partId": "3001", "quantity": 4, "color": "Red", "partName": "Brick 2 x 4"},
)
REBRICKABLE = PartsFile(
    filename="rebrickable_parts.csv",
    content_type="application/vnd.ms-excel",
    content=b"Part,Color,Quantity,Is Spare\n3001,4,6,False\n3023,0,12,False\n3023,0,1,True\n973pr1234,72,1,False\n",
    format="rebrickable-csv",
    rows=4,
    total=19,
    unique=3,
    lines=[2, 3, 4, 5],
    first_part={"partId": "3001", "quantity": 6, "color": "4", "isSpare": False},
)
BRICKLINK = PartsFile(
    filename="wanted.xml",
    content_type="application/xml",
    content=(
        b"<INVENTORY>\n"
        b"  <ITEM><ITEMTYPE>P</ITEMTYPE><ITEMID>3001</ITEMID><COLOR>5</COLOR><MINQTY>4</MINQTY></ITEM>\n"
        b"  <ITEM><ITEMTYPE>P</ITEMTYPE><ITEMID>3069b</ITEMID><COLOR>11</COLOR><MINQTY>10</MINQTY></ITEM>\n"
        b"</INVENTORY>\n"
    ),
    format="bricklink-xml",
    rows=2,
    total=14,
    unique=2,
    lines=[2, 3],
    first_part={"partId": "3001", "quantity": 4, "color": "5", "category": "Part"},
)
FORMATS = [PICK_A_BRICK, ALIASED_HEADER, STANDARD, REBRICKABLE, BRICKLINK]


def csv_rows(count: int) -> bytes:
    lines = ["Part ID,Quantity,Color"] + [f"{3000 + n},{1 + n % 5},Red" for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


def bucket_object(key: str) -> bytes:
    s3 = devstack.s3_client(os.environ["AWS_ENDPOINT_URL_S3"])
    return s3.get_object(Bucket=settings.STORAGE_BUCKET, Key=key)["Body"].read()


def assert_nothing_stored(moc: Moc) -> None:
    assert not MocPartsList.objects.filter(moc=moc).exists()
    assert not MocFile.objects.filter(moc=moc).exists()
    assert not MocPart.objects.filter(parts_list__moc=moc).exists()
    assert stored_keys(moc_prefix(moc)) == []
    moc.refresh_from_db()
    assert moc.total_piece_count is None


def upload_url(moc) -> str:
    return f"/api/mocs/{moc.id}/upload-parts-list"


def lists_url(moc) -> str:
    return f"/api/mocs/{moc.id}/parts-lists"


def list_url(moc, parts_list) -> str:
    return f"/api/mocs/{moc.id}/parts-lists/{parts_list.id}"


def ready_list(moc, *, total: int = 0, **fields) -> MocPartsList:
    return MocPartsListFactory(moc=moc, total_parts_count=total, **fields)


# --- M17 / M18: every format ----------------------------------------------------------------------------------


def assert_stored(moc: Moc, body: dict, parts_file: PartsFile) -> None:
    data = body["data"]
    parts_list = MocPartsList.objects.get(pk=data["partsListId"])
    file = MocFile.objects.get(pk=data["file"]["id"])

    assert body["message"] == "Parts list uploaded and processed successfully"
    assert set(data) == {"partsListId", "totalParts", "file", "partsList", "parsing", "moc"}
    assert data["totalParts"] == parts_file.total
    assert data["parsing"] == {
        "totalPieceCount": parts_file.total,
        "uniqueParts": parts_file.unique,
        "rowsProcessed": parts_file.rows,
        "format": parts_file.format,
        "success": True,
    }
    assert data["moc"] == {"id": str(moc.id), "totalPieceCount": parts_file.total}
    assert data["partsList"]["id"] == data["partsListId"]
    assert data["partsList"]["fileId"] == data["file"]["id"]
    assert data["partsList"]["status"] == "ready"
    assert data["partsList"]["format"] == parts_file.format
    assert data["partsList"]["title"] == f"Parts List - {parts_file.filename}"
    assert (data["partsList"]["rowCount"], data["partsList"]["totalPartsCount"]) == (parts_file.rows, parts_file.total)
    assert data["partsList"]["uniquePartsCount"] == parts_file.unique
    assert data["file"]["fileType"] == "parts-list"
    assert data["file"]["originalFilename"] == parts_file.filename
    assert data["file"]["fileSize"] == len(parts_file.content)
    assert data["file"]["status"] == "ready"

    extension = "xml" if parts_file.format == "bricklink-xml" else parts_file.filename.rsplit(".", 1)[1]
    assert file.file_url == f"{moc_prefix(moc)}{file.id}.{extension}"
    assert stored_keys(moc_prefix(moc)) == [file.file_url]
    assert bucket_object(file.file_url) == parts_file.content

    parts = list(parts_list.parts.order_by("line_number"))
    assert [part.line_number for part in parts] == parts_file.lines
    first = {
        "partId": parts[0].part_id,
        "quantity": parts[0].quantity,
        "color": parts[0].color,
        "partName": parts[0].part_name,
        "category": parts[0].category,
        "isSpare": parts[0].is_spare,
    }
    assert {key: first[key] for key in parts_file.first_part} == parts_file.first_part
    moc.refresh_from_db()
    assert moc.total_piece_count == parts_file.total


@pytest.mark.parametrize("parts_file", FORMATS, ids=lambda f: f.format)
def test_upload_parses_each_format(api, moc, parts_file):
    response = api.post(upload_url(moc), {"file": parts_file.upload()}, format="multipart")

    assert response.status_code == 201, response.content
    assert_stored(moc, response.json(), parts_file)


@pytest.mark.parametrize("parts_file", FORMATS, ids=lambda f: f.format)
def test_alias_parses_each_format(api, moc, parts_file):
    response = api.post(
        "/api/mocs/upload-parts-list",
        {"mocId": str(moc.id), "partsListFile": parts_file.upload(), "fileType": "parts-list"},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert_stored(moc, response.json(), parts_file)


def test_upload_takes_partsListFile_field_and_a_title(api, moc):
    response = api.post(
        upload_url(moc), {"partsListFile": STANDARD.upload(), "title": "  Main build  "}, format="multipart"
    )

    assert response.status_code == 201, response.content
    assert response.json()["data"]["partsList"]["title"] == "Main build"


def test_upload_with_an_empty_title_gets_the_default(api, moc):
    response = api.post(upload_url(moc), {"file": STANDARD.upload(), "title": "   "}, format="multipart")

    assert response.json()["data"]["partsList"]["title"] == "Parts List - prd-export.csv"


def test_upload_title_over_255_is_400(api, moc):
    response = api.post(upload_url(moc), {"file": STANDARD.upload(), "title": "x" * 256}, format="multipart")

    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert list(error["details"]["fields"]) == ["title"]
    assert_nothing_stored(moc)


def test_upload_touches_the_moc_and_bumps_its_cache(api, owner, moc, django_capture_on_commit_callbacks):
    before = moc.updated_at
    version = response_cache.get_versions(owner, "mocs")["mocs"]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(upload_url(moc), {"file": STANDARD.upload()}, format="multipart")

    assert response.status_code == 201
    moc.refresh_from_db()
    assert moc.updated_at > before
    assert response_cache.get_versions(owner, "mocs")["mocs"] > version


def test_totals_sum_over_two_lists(api, moc):
    api.post(upload_url(moc), {"file": PICK_A_BRICK.upload()}, format="multipart")
    response = api.post(upload_url(moc), {"file": REBRICKABLE.upload()}, format="multipart")

    assert response.json()["data"]["moc"]["totalPieceCount"] == 16 + 19
    assert response.json()["data"]["totalParts"] == 19
    moc.refresh_from_db()
    assert moc.total_piece_count == 35
    assert MocPartsList.objects.filter(moc=moc).count() == 2


def test_total_leaves_out_lists_that_are_not_ready(api, moc):
    ready_list(moc, total=100, status="failed")
    ready_list(moc, total=50, status="pending")

    response = api.post(upload_url(moc), {"file": STANDARD.upload()}, format="multipart")

    assert response.json()["data"]["moc"]["totalPieceCount"] == STANDARD.total


# --- M17: all or nothing ---------------------------------------------------------------------------------------


def test_spec_error_example_gives_the_exact_error(api, moc):
    upload = SimpleUploadedFile("bricks.csv", SPEC_ERROR_CSV, content_type="text/csv")

    response = api.post(upload_url(moc), {"file": upload}, format="multipart")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"success", "error", "timestamp", "requestId"}
    assert body["success"] is False
    assert body["error"] == {
        "type": "VALIDATION_ERROR",
        "message": "Failed to parse parts list file",
        "details": {"fields": {"file": SPEC_ERROR_FIELD_MESSAGES}, **SPEC_ERROR_DETAILS},
    }
    assert_nothing_stored(moc)


def test_parse_errors_use_the_field_the_file_came_in(api, moc):
    upload = SimpleUploadedFile("bricks.csv", SPEC_ERROR_CSV, content_type="text/csv")

    response = api.post(upload_url(moc), {"partsListFile": upload}, format="multipart")

    assert list(response.json()["error"]["details"]["fields"]) == ["partsListFile"]


def test_bad_row_far_down_is_reported_at_its_line_and_nothing_is_stored(api, moc):
    lines = csv_rows(5000).decode().splitlines()
    lines[4321] = "3001,5abc,Red"  # physical line 4322
    upload = SimpleUploadedFile("big.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")

    response = api.post(upload_url(moc), {"file": upload}, format="multipart")

    error = assert_error(response, 400, "VALIDATION_ERROR", "Failed to parse parts list file")
    assert error["details"]["errors"] == [
        {
            "line": 4322,
            "column": "quantity",
            "code": "INVALID_QUANTITY",
            "message": 'quantity must be a whole number between 1 and 100000 (got "5abc")',
        }
    ]
    assert error["details"]["fields"]["file"] == [
        'Line 4322: quantity must be a whole number between 1 and 100000 (got "5abc")'
    ]
    assert_nothing_stored(moc)


def test_more_than_50_errors_are_truncated(api, moc):
    content = b"Part ID,Quantity\n" + b"".join(b"3001,x\n" for _ in range(60))

    response = api.post(upload_url(moc), {"file": SimpleUploadedFile("x.csv", content)}, format="multipart")

    details = assert_error(response, 400, "VALIDATION_ERROR")["details"]
    assert (len(details["errors"]), len(details["fields"]["file"])) == (50, 50)
    assert (details["errorCount"], details["errorsTruncated"]) == (60, True)


def test_ten_thousand_rows_are_accepted(api, moc):
    upload = SimpleUploadedFile("big.csv", csv_rows(10_000), content_type="text/csv")

    response = api.post(upload_url(moc), {"file": upload}, format="multipart")

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["parsing"]["rowsProcessed"] == 10_000
    assert data["totalParts"] == sum(1 + n % 5 for n in range(10_000))
    assert MocPart.objects.filter(parts_list_id=data["partsListId"]).count() == 10_000
    last = MocPart.objects.filter(parts_list_id=data["partsListId"]).order_by("-line_number").first()
    assert (last.part_id, last.line_number) == ("12999", 10_001)


def test_ten_thousand_and_one_rows_are_refused_and_nothing_is_stored(api, moc):
    upload = SimpleUploadedFile("big.csv", csv_rows(10_001), content_type="text/csv")

    response = api.post(upload_url(moc), {"file": upload}, format="multipart")

    error = assert_error(response, 400, "VALIDATION_ERROR", "Failed to parse parts list file")
    assert [(e["code"], e["line"]) for e in error["details"]["errors"]] == [("TOO_MANY_ROWS", 10_002)]
    assert error["details"]["fields"]["file"] == ["Line 10002: Too many rows (max 10000)"]
    assert_nothing_stored(moc)


def test_empty_parts_file_is_refused(api, moc):
    upload = SimpleUploadedFile("empty.csv", b"Part ID,Quantity\n\n", content_type="text/csv")

    error = assert_error(api.post(upload_url(moc), {"file": upload}, format="multipart"), 400, "VALIDATION_ERROR")

    assert error["details"]["fields"]["file"] == ["File contains no parts"]
    assert error["details"]["errors"][0]["code"] == "EMPTY_FILE"
    assert_nothing_stored(moc)


def test_no_file_is_400(api, moc):
    response = api.post(upload_url(moc), {"title": "x"}, format="multipart")

    error = assert_error(response, 400, "VALIDATION_ERROR", "No file provided")
    assert error["details"]["fields"] == {"file": ["No file provided"]}


def test_unexpected_file_field_is_400(api, moc):
    response = api.post(upload_url(moc), {"attachment": STANDARD.upload()}, format="multipart")

    error = assert_error(response, 400, "VALIDATION_ERROR", "Unexpected file field")
    assert error["details"]["fields"] == {"attachment": ["Unexpected file field"]}
    assert_nothing_stored(moc)


def test_two_files_are_400(api, moc):
    response = api.post(
        upload_url(moc), {"file": STANDARD.upload(), "partsListFile": STANDARD.upload()}, format="multipart"
    )

    assert_error(response, 400, "VALIDATION_ERROR", "Only one file can be uploaded")
    assert_nothing_stored(moc)


def test_file_over_10_mb_is_413(api, moc):
    content = csv_rows(10)
    content += b" " * (10 * 1_048_576 + 1 - len(content))

    response = api.post(upload_url(moc), {"file": SimpleUploadedFile("big.csv", content)}, format="multipart")

    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE", "File too large (max 10 MB)")
    assert error["details"]["fields"] == {"file": ["File too large (max 10 MB)"]}
    assert_nothing_stored(moc)


def test_unsupported_type_is_415(api, moc):
    upload = SimpleUploadedFile("parts.pdf", b"%PDF-1.7\n...", content_type="application/pdf")

    response = api.post(upload_url(moc), {"file": upload}, format="multipart")

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported file type. Allowed: .csv, .txt, .xml")
    assert_nothing_stored(moc)


def test_csv_holding_xml_is_400_mismatch(api, moc):
    upload = SimpleUploadedFile("parts.csv", BRICKLINK.content, content_type="text/csv")

    response = api.post(upload_url(moc), {"file": upload}, format="multipart")

    assert_error(response, 400, "VALIDATION_ERROR", "File content does not match its extension or declared type")
    assert_nothing_stored(moc)


def test_eleventh_list_is_409_and_nothing_is_stored(api, moc):
    for _ in range(10):
        ready_list(moc)

    response = api.post(upload_url(moc), {"file": STANDARD.upload()}, format="multipart")

    assert_error(response, 409, "CONFLICT", "A MOC can have at most 10 parts lists")
    assert MocPartsList.objects.filter(moc=moc).count() == 10
    assert not MocFile.objects.filter(moc=moc).exists()
    assert stored_keys(moc_prefix(moc)) == []


def test_wrong_content_type_is_415(api, moc):
    response = api.post(upload_url(moc), {"title": "x"}, format="json")

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be multipart/form-data")


# --- M18: mocId ------------------------------------------------------------------------------------------------


def test_alias_without_moc_id_is_400(api):
    response = api.post("/api/mocs/upload-parts-list", {"file": STANDARD.upload()}, format="multipart")

    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert list(error["details"]["fields"]) == ["mocId"]


def test_alias_with_malformed_moc_id_is_400(api):
    response = api.post(
        "/api/mocs/upload-parts-list", {"mocId": "not-a-uuid", "file": STANDARD.upload()}, format="multipart"
    )

    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert list(error["details"]["fields"]) == ["mocId"]


def test_alias_with_unknown_moc_is_404(api):
    response = api.post(
        "/api/mocs/upload-parts-list", {"mocId": str(uuid.uuid4()), "file": STANDARD.upload()}, format="multipart"
    )

    assert_error(response, 404, "NOT_FOUND", "MOC not found")


def test_alias_with_another_users_moc_is_403(api, other_user):
    other_moc = MocFactory(user_id=other_user)

    response = api.post(
        "/api/mocs/upload-parts-list", {"mocId": str(other_moc.id), "file": STANDARD.upload()}, format="multipart"
    )

    assert_error(response, 403, "FORBIDDEN", "You do not own this MOC")
    assert_nothing_stored(other_moc)


def test_alias_anonymous_is_401(anonymous, moc):
    response = anonymous.post(
        "/api/mocs/upload-parts-list", {"mocId": str(moc.id), "file": STANDARD.upload()}, format="multipart"
    )

    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")


# --- Ownership on every route --------------------------------------------------------------------------------


def _request(api, method: str, url: str, kind: str):
    if kind == "upload":
        return api.post(url, {"file": STANDARD.upload()}, format="multipart")
    body = {"create": {"title": "Manual"}, "update": {"built": True}}.get(kind)
    return getattr(api, method)(url, body, format="json") if body is not None else getattr(api, method)(url)


MOC_ROUTES = [
    ("post", "/api/mocs/{moc}/upload-parts-list", "upload"),
    ("get", "/api/mocs/{moc}/parts-lists", "read"),
    ("post", "/api/mocs/{moc}/parts-lists", "create"),
    ("get", "/api/mocs/{moc}/parts-lists/{pl}", "read"),
    ("get", "/api/mocs/{moc}/parts-lists/{pl}/parts", "read"),
    ("patch", "/api/mocs/{moc}/parts-lists/{pl}", "update"),
    ("put", "/api/mocs/{moc}/parts-lists/{pl}", "update"),
    ("patch", "/api/mocs/{moc}/parts-lists/{pl}/status", "update"),
    ("put", "/api/mocs/{moc}/parts-lists/{pl}/status", "update"),
    ("delete", "/api/mocs/{moc}/parts-lists/{pl}", "read"),
]
CHILD_ROUTES = [route for route in MOC_ROUTES if "{pl}" in route[1]]
ROUTE_IDS = [f"{method.upper()} {path}" for method, path, _ in MOC_ROUTES]
CHILD_IDS = [f"{method.upper()} {path}" for method, path, _ in CHILD_ROUTES]


@pytest.mark.parametrize(("method", "path", "kind"), MOC_ROUTES, ids=ROUTE_IDS)
def test_anonymous_gets_401(anonymous, moc, method, path, kind):
    parts_list = ready_list(moc)

    response = _request(anonymous, method, path.format(moc=moc.id, pl=parts_list.id), kind)

    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")


@pytest.mark.parametrize(("method", "path", "kind"), MOC_ROUTES, ids=ROUTE_IDS)
def test_other_user_gets_403(other_api, moc, method, path, kind):
    parts_list = ready_list(moc, built=False)

    response = _request(other_api, method, path.format(moc=moc.id, pl=parts_list.id), kind)

    assert_error(response, 403, "FORBIDDEN", "You do not own this MOC")
    parts_list.refresh_from_db()
    assert parts_list.built is False
    assert MocPartsList.objects.filter(moc=moc).count() == 1


@pytest.mark.parametrize(("method", "path", "kind"), MOC_ROUTES, ids=ROUTE_IDS)
def test_missing_moc_gets_404(api, method, path, kind):
    response = _request(api, method, path.format(moc=uuid.uuid4(), pl=uuid.uuid4()), kind)

    assert_error(response, 404, "NOT_FOUND", "MOC not found")


@pytest.mark.parametrize(("method", "path", "kind"), CHILD_ROUTES, ids=CHILD_IDS)
def test_missing_parts_list_gets_404(api, moc, method, path, kind):
    response = _request(api, method, path.format(moc=moc.id, pl=uuid.uuid4()), kind)

    assert_error(response, 404, "NOT_FOUND", "Parts list not found")


@pytest.mark.parametrize(("method", "path", "kind"), CHILD_ROUTES, ids=CHILD_IDS)
def test_parts_list_of_another_moc_gets_404(api, owner, moc, method, path, kind):
    elsewhere = ready_list(MocFactory(user_id=owner), built=False)

    response = _request(api, method, path.format(moc=moc.id, pl=elsewhere.id), kind)

    assert_error(response, 404, "NOT_FOUND", "Parts list not found")
    assert MocPartsList.objects.filter(pk=elsewhere.pk, built=False).exists()


def test_malformed_parts_list_id_is_route_not_found(api, moc):
    assert_error(api.get(f"{lists_url(moc)}/nope"), 404, "NOT_FOUND", "Route not found")


# --- M19 / M21 -------------------------------------------------------------------------------------------------


def test_list_collection_is_ordered_by_creation_with_total(api, moc):
    first = ready_list(moc, title="First")
    second = ready_list(moc, title="Second")
    MocPartsList.objects.filter(pk=first.pk).update(created_at=second.created_at.replace(year=2020))

    response = api.get(lists_url(moc))

    body = response.json()
    assert response.status_code == 200
    assert [item["id"] for item in body["data"]] == [str(first.id), str(second.id)]
    assert body["total"] == 2
    assert "page" not in body


def test_get_one_list(api, moc):
    parts_list = ready_list(moc, total=12, inventory_percentage=Decimal("12.50"), cost_estimate=Decimal("149.99"))

    data = api.get(list_url(moc, parts_list)).json()["data"]

    assert data["id"] == str(parts_list.id)
    assert (data["totalPartsCount"], data["inventoryPercentage"], data["costEstimate"]) == (12, 12.5, 149.99)
    assert set(data) == {
        "id", "mocId", "fileId", "title", "description", "status", "format", "errorDetails", "built", "purchased",
        "inventoryPercentage", "totalPartsCount", "uniquePartsCount", "rowCount", "acquiredPartsCount",
        "costEstimate", "actualCost", "notes", "createdAt", "updatedAt",
    }  # fmt: skip


# --- M20: manual lists -----------------------------------------------------------------------------------------


def test_manual_list_is_created_ready_with_counts(api, moc):
    body = {
        "title": "  Hand count  ",
        "description": "",
        "built": True,
        "costEstimate": 12.5,
        "parts": [
            {"partId": "3001", "quantity": 4, "color": "Red", "partName": "Brick 2 x 4"},
            {"partId": "3001", "quantity": "2", "color": "Red"},
            {"partId": 3020, "quantity": 1, "isSpare": True},
            {"partId": "3020", "quantity": 3, "isSpare": "no", "category": "Plates", "unknown": "ignored"},
        ],
    }

    response = api.post(lists_url(moc), body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["message"] == "Parts list created successfully"
    data = response.json()["data"]
    assert (data["status"], data["format"], data["fileId"]) == ("ready", "manual", None)
    assert (data["title"], data["description"], data["built"], data["costEstimate"]) == ("Hand count", None, True, 12.5)
    assert (data["rowCount"], data["totalPartsCount"], data["uniquePartsCount"]) == (4, 9, 2)
    parts = list(MocPart.objects.filter(parts_list_id=data["id"]).order_by("line_number"))
    assert [(p.part_id, p.quantity, p.is_spare, p.line_number) for p in parts] == [
        ("3001", 4, False, 1),
        ("3001", 2, False, 2),
        ("3020", 1, True, 3),
        ("3020", 3, False, 4),
    ]
    assert parts[1].part_name is None and parts[3].category == "Plates"
    moc.refresh_from_db()
    assert moc.total_piece_count == 9


def test_manual_list_without_parts_is_empty_and_counts_in_the_total(api, moc):
    response = api.post(lists_url(moc), {"title": "Later", "parts": None}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["rowCount"] == 0
    moc.refresh_from_db()
    assert moc.total_piece_count == 0


def test_manual_list_errors_use_part_paths_and_store_nothing(api, moc):
    parts = [
        {"partId": "3001", "quantity": 1},
        {"partId": "3001", "quantity": 1},
        {"partId": "3001", "quantity": 1},
        {"partId": "3001", "quantity": 3.5},
        {"partId": "  ", "quantity": 0, "isSpare": "maybe"},
        "3001",
        {"partId": ["x"], "quantity": 1, "color": "c" * 65},
        {"partId": "3001", "quantity": 100_001},
    ]

    response = api.post(lists_url(moc), {"title": "Bad", "parts": parts}, format="json")

    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert error["details"]["fields"] == {
        "parts.3.quantity": ['quantity must be a whole number between 1 and 100000 (got "3.5")'],
        "parts.4.partId": ["part id is required"],
        "parts.4.quantity": ['quantity must be a whole number between 1 and 100000 (got "0")'],
        "parts.4.isSpare": ['is spare must be one of true/false/yes/no/1/0/t/f/y/n (got "maybe")'],
        "parts.5": ["Expected an object."],
        "parts.6.partId": ["Must be a string."],
        "parts.6.color": ["color must be at most 64 characters"],
        "parts.7.quantity": ['quantity must be a whole number between 1 and 100000 (got "100001")'],
    }
    assert_nothing_stored(moc)


def test_manual_list_needs_a_title(api, moc):
    error = assert_error(api.post(lists_url(moc), {"parts": []}, format="json"), 400, "VALIDATION_ERROR")

    assert list(error["details"]["fields"]) == ["title"]


def test_manual_list_parts_must_be_a_list(api, moc):
    response = api.post(lists_url(moc), {"title": "x", "parts": {"partId": "1"}}, format="json")

    assert list(assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]) == ["parts"]


def test_manual_list_accepts_10000_parts_and_refuses_10001(api, moc):
    parts = [{"partId": str(3000 + n), "quantity": 1} for n in range(10_000)]

    accepted = api.post(lists_url(moc), {"title": "Big", "parts": parts}, format="json")
    refused = api.post(lists_url(moc), {"title": "Bigger", "parts": [*parts, parts[0]]}, format="json")

    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["data"]["rowCount"] == 10_000
    error = assert_error(refused, 400, "VALIDATION_ERROR")
    assert error["details"]["fields"] == {"parts": ["At most 10000 parts are allowed."]}
    assert MocPartsList.objects.filter(moc=moc).count() == 1


def test_manual_list_reports_at_most_50_failing_parts(api, moc):
    parts = [{"partId": "", "quantity": 1}] * 80

    error = assert_error(
        api.post(lists_url(moc), {"title": "x", "parts": parts}, format="json"), 400, "VALIDATION_ERROR"
    )

    assert len(error["details"]["fields"]) == 50


def test_manual_list_validates_the_editable_fields(api, moc):
    response = api.post(lists_url(moc), {"title": "x", "inventoryPercentage": 101}, format="json")

    assert list(assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]) == ["inventoryPercentage"]


def test_manual_list_at_the_cap_is_409(api, moc):
    for _ in range(10):
        ready_list(moc)

    response = api.post(lists_url(moc), {"title": "One more"}, format="json")

    assert_error(response, 409, "CONFLICT", "A MOC can have at most 10 parts lists")


# --- M22: parts paging -----------------------------------------------------------------------------------------


@pytest.fixture
def long_list(moc):
    parts_list = ready_list(moc)
    MocPart.objects.bulk_create(
        MocPart(parts_list=parts_list, part_id=str(n), quantity=1, line_number=n + 2) for n in reversed(range(250))
    )
    return parts_list


def test_parts_are_paged_by_line_number(api, moc, long_list):
    body = api.get(f"{list_url(moc, long_list)}/parts").json()

    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (250, 1, 100, 3)
    assert [part["lineNumber"] for part in body["data"]] == list(range(2, 102))
    assert set(body["data"][0]) == {
        "id", "partsListId", "partId", "partName", "color", "quantity", "category", "isSpare", "lineNumber",
    }  # fmt: skip


def test_last_page_and_past_the_end(api, moc, long_list):
    last = api.get(f"{list_url(moc, long_list)}/parts?page=3").json()
    beyond = api.get(f"{list_url(moc, long_list)}/parts?page=4").json()

    assert [part["lineNumber"] for part in last["data"]] == list(range(202, 252))
    assert (beyond["data"], beyond["total"]) == ([], 250)


def test_limit_up_to_1000(api, moc, long_list, clock, django_assert_max_num_queries):
    api.get(lists_url(moc))  # the caller's first request also creates their profile row
    # The MOC, the list, the count and the page, however many parts.
    with django_assert_max_num_queries(4):
        body = api.get(f"{list_url(moc, long_list)}/parts?limit=1000").json()

    assert (len(body["data"]), body["limit"], body["totalPages"]) == (250, 1000, 1)


@pytest.mark.parametrize("query", ["limit=1001", "limit=0", "limit=abc", "page=0", "page=-1"])
def test_invalid_paging_is_400(api, moc, long_list, query):
    response = api.get(f"{list_url(moc, long_list)}/parts?{query}")

    field = query.split("=")[0]
    assert list(assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]) == [field]


# --- M23 / M24: edits ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_changes_the_editable_fields(api, owner, moc, method, django_capture_on_commit_callbacks):
    parts_list = ready_list(moc, total=5)
    version = response_cache.get_versions(owner, "mocs")["mocs"]
    body = {
        "title": " Renamed ",
        "description": "Castle wall",
        "built": True,
        "purchased": True,
        "inventoryPercentage": 99.99,
        "acquiredPartsCount": 1_000_000,
        "costEstimate": 99_999_999.99,
        "actualCost": None,
        "notes": "  ",
        "totalPartsCount": 999,
        "format": "ignored",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(api, method)(list_url(moc, parts_list), body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Parts list updated successfully"
    data = response.json()["data"]
    assert (data["title"], data["description"], data["built"], data["purchased"]) == (
        "Renamed",
        "Castle wall",
        True,
        True,
    )
    assert (data["inventoryPercentage"], data["acquiredPartsCount"]) == (99.99, 1_000_000)
    assert (data["costEstimate"], data["actualCost"], data["notes"]) == (99_999_999.99, None, None)
    assert (data["totalPartsCount"], data["format"]) == (5, "manual")
    parts_list.refresh_from_db()
    assert parts_list.cost_estimate == Decimal("99999999.99")
    assert parts_list.updated_at > parts_list.created_at
    assert response_cache.get_versions(owner, "mocs")["mocs"] > version


def test_update_with_no_fields_changes_nothing(api, moc):
    parts_list = ready_list(moc, title="Same")

    response = api.patch(list_url(moc, parts_list), {}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["title"] == "Same"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inventoryPercentage", 12.345),
        ("inventoryPercentage", 100.01),
        ("inventoryPercentage", -1),
        ("inventoryPercentage", None),
        ("inventoryPercentage", "lots"),
        ("costEstimate", 1.005),
        ("costEstimate", -0.01),
        ("costEstimate", 100_000_000),
        ("actualCost", 10.001),
        ("acquiredPartsCount", 1_000_001),
        ("acquiredPartsCount", -1),
        ("acquiredPartsCount", 1.5),
        ("acquiredPartsCount", True),
        ("acquiredPartsCount", None),
        ("title", ""),
        ("title", None),
        ("title", "x" * 256),
        ("description", "x" * 2001),
        ("notes", "x" * 5001),
        ("built", None),
        ("built", "perhaps"),
    ],
)
def test_update_rejects_bad_values(api, moc, field, value):
    parts_list = ready_list(moc)

    response = api.patch(list_url(moc, parts_list), {field: value}, format="json")

    assert list(assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")["details"]["fields"]) == [field]


def test_update_accepts_the_edges(api, moc):
    parts_list = ready_list(moc)
    body = {"inventoryPercentage": 100, "costEstimate": 0, "acquiredPartsCount": 0, "description": "d" * 2000}

    response = api.patch(list_url(moc, parts_list), body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["inventoryPercentage"] == 100


def test_update_never_touches_parts(api, moc):
    part = MocPartFactory(parts_list=ready_list(moc))

    api.patch(list_url(moc, part.parts_list), {"parts": [{"partId": "x", "quantity": 1}]}, format="json")

    assert list(MocPart.objects.filter(parts_list=part.parts_list).values_list("part_id", flat=True)) == [part.part_id]


@pytest.mark.parametrize("method", ["patch", "put"])
def test_status_update(api, moc, method):
    parts_list = ready_list(moc, title="Keep")

    response = getattr(api, method)(
        f"{list_url(moc, parts_list)}/status",
        {"built": True, "inventoryPercentage": "50.5", "actualCost": 10, "title": "ignored here"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Parts list status updated successfully"
    data = response.json()["data"]
    assert (data["built"], data["inventoryPercentage"], data["actualCost"], data["title"]) == (True, 50.5, 10, "Keep")


@pytest.mark.parametrize("body", [{}, {"title": "not a status field"}, {"costEstimate": 5}])
def test_status_update_needs_at_least_one_field(api, moc, body):
    parts_list = ready_list(moc)

    response = api.patch(f"{list_url(moc, parts_list)}/status", body, format="json")

    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert error["details"]["fields"] == {
        "nonFieldErrors": [
            "At least one of built, purchased, inventoryPercentage, acquiredPartsCount, actualCost or notes is required."
        ]
    }


def test_status_update_validates_values(api, moc):
    parts_list = ready_list(moc)

    response = api.patch(f"{list_url(moc, parts_list)}/status", {"inventoryPercentage": 1.234}, format="json")

    assert list(assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]) == ["inventoryPercentage"]


# --- M25: delete -----------------------------------------------------------------------------------------------


def test_delete_takes_parts_file_and_object_and_recomputes_the_total(api, moc, django_capture_on_commit_callbacks):
    kept = api.post(upload_url(moc), {"file": PICK_A_BRICK.upload()}, format="multipart").json()["data"]
    gone = api.post(upload_url(moc), {"file": REBRICKABLE.upload()}, format="multipart").json()["data"]
    gone_key = MocFile.objects.get(pk=gone["file"]["id"]).file_url
    assert len(stored_keys(moc_prefix(moc))) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"{lists_url(moc)}/{gone['partsListId']}")

    assert response.status_code == 200
    assert response.json()["message"] == "Parts list deleted successfully"
    assert response.json()["data"] == {"id": gone["partsListId"]}
    assert not MocPartsList.objects.filter(pk=gone["partsListId"]).exists()
    assert not MocPart.objects.filter(parts_list_id=gone["partsListId"]).exists()
    assert not MocFile.objects.filter(pk=gone["file"]["id"]).exists()
    assert gone_key not in stored_keys(moc_prefix(moc))
    assert len(stored_keys(moc_prefix(moc))) == 1
    moc.refresh_from_db()
    assert moc.total_piece_count == PICK_A_BRICK.total

    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"{lists_url(moc)}/{kept['partsListId']}")

    moc.refresh_from_db()
    assert moc.total_piece_count is None
    assert stored_keys(moc_prefix(moc)) == []


def test_delete_manual_list_keeps_the_mocs_files(api, moc):
    instruction = MocFileFactory(moc=moc)
    parts_list = ready_list(moc, total=7)

    api.delete(list_url(moc, parts_list))

    assert MocFile.objects.filter(pk=instruction.pk).exists()
    moc.refresh_from_db()
    assert moc.total_piece_count is None
