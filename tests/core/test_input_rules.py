"""The input rules of SPEC §1.4, §1.5 and §1.8, checked on every route and parameter of their kind: text (U+0000,
lone surrogates, length) in query strings, JSON bodies and multipart fields; one boolean rule; `[`-arrays;
malformed and empty bodies; 4-digit years in and out."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.test import override_settings

from lego_api.core.envelope import format_timestamp
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.parsers import JSON_MAX_DEPTH
from mocs.models import Moc, MocFile, MocPartsList
from tests.factories import MocFactory, MocFileFactory, MocPartFactory, MocPartsListFactory
from tests.helpers import assert_error
from tests.samples import CSV, PDF

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Null characters are not allowed."
SURROGATE_MESSAGE = "Must be valid UTF-8 text (no lone surrogates)."
BOOLEAN_MESSAGE = "Must be true, false, 1 or 0."
ARRAY_MESSAGE = "Must be a JSON array of strings."
YEAR_MESSAGE = "The year must be between 1000 and 9999."

MOC = {"type": "moc", "title": "Coffee Truck", "author": "Jane", "partsCount": 328, "theme": "City", "setNumber": "M-1"}
SET = {"type": "set", "title": "Assembly Square", "brand": "LEGO", "theme": "Modular", "setNumber": "10255"}


@pytest.fixture
def parts_list(moc) -> MocPartsList:
    parts_list = MocPartsListFactory(moc=moc)
    MocPartFactory(parts_list=parts_list)
    return parts_list


@pytest.fixture
def moc_file(moc) -> MocFile:
    return MocFileFactory(moc=moc)


@pytest.fixture
def urls(moc, parts_list, moc_file) -> dict[str, str]:
    """Every MOC route of SPEC §4.2 that reads a query string or a body, by route id."""
    base = f"/api/mocs/{moc.id}"
    return {
        "M1": "/api/mocs",
        "M2": "/api/mocs",
        "M3": "/api/mocs/search",
        "M5": base,
        "M7": "/api/mocs/with-files",
        "M8": "/api/mocs/with-files/initialize",
        "M9": f"{base}/files/initialize",
        "M10": f"{base}/finalize",
        "M11": f"{base}/files",
        "M13": f"{base}/files/{moc_file.id}/download",
        "M17": f"{base}/upload-parts-list",
        "M18": "/api/mocs/upload-parts-list",
        "M20": f"{base}/parts-lists",
        "M22": f"{base}/parts-lists/{parts_list.id}/parts",
        "M23": f"{base}/parts-lists/{parts_list.id}",
        "M24": f"{base}/parts-lists/{parts_list.id}/status",
    }


def only_field(response, path: str) -> list[str]:
    """A 400 VALIDATION_ERROR whose `details.fields` names exactly `path`; its messages."""
    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert list(error["details"]["fields"]) == [path], error
    return error["details"]["fields"][path]


# --- §1.4 text in query strings (defect 4) ------------------------------------------------------------------------

QUERY_PARAMETERS = [
    ("M1", "search"),
    ("M1", "tag"),
    ("M1", "type"),
    ("M1", "page"),
    ("M1", "limit"),
    ("M3", "q"),
    ("M3", "from"),
    ("M3", "size"),
    ("M13", "format"),
    ("M22", "page"),
    ("M22", "limit"),
]
# How a client sends each: percent-encoded UTF-8 (a lone surrogate can only travel as its invalid UTF-8 bytes, which
# Django would silently turn into U+FFFD).
BAD_QUERY_TEXT = {
    "nul": ("a%00b", NUL_MESSAGE),
    "lone-surrogate": ("a%ED%A0%80b", SURROGATE_MESSAGE),
    "invalid-utf8": ("a%FFb", SURROGATE_MESSAGE),
}


@override_settings(OPENSEARCH_URL=None)  # `make run`: PostgreSQL answers the searches
@pytest.mark.parametrize("kind", list(BAD_QUERY_TEXT))
@pytest.mark.parametrize(("route", "name"), QUERY_PARAMETERS)
def test_query_text_with_nul_or_lone_surrogate_is_400_on_that_parameter(api, urls, route, name, kind):
    value, message = BAD_QUERY_TEXT[kind]
    response = api.get(f"{urls[route]}?{name}={value}")

    assert only_field(response, name) == [message]


@pytest.mark.parametrize("route", ["M1", "M3"])
def test_search_text_with_nul_is_400_when_opensearch_answers_too(api, urls, route):
    name = "search" if route == "M1" else "q"
    assert only_field(api.get(f"{urls[route]}?{name}=a%00b"), name) == [NUL_MESSAGE]


OVER_LONG_QUERY = [
    ("M1", "search", "s" * 201),
    ("M1", "tag", "t" * 51),
    ("M1", "type", "m" * 5000),
    ("M1", "page", "9" * 5000),
    ("M1", "limit", "1" * 5000),
    ("M3", "q", "q" * 201),
    ("M3", "from", "9" * 5000),
    ("M3", "size", "0" * 4999 + "555"),
    ("M13", "format", "j" * 5000),
    ("M22", "page", "1" + "0" * 32),
    ("M22", "limit", "9" * 5000),
]


@override_settings(OPENSEARCH_URL=None)
@pytest.mark.parametrize(("route", "name", "value"), OVER_LONG_QUERY, ids=[f"{r}-{n}" for r, n, _ in OVER_LONG_QUERY])
def test_over_long_query_values_are_400_on_that_parameter(api, urls, route, name, value):
    only_field(api.get(f"{urls[route]}?{name}={value}"), name)


@override_settings(OPENSEARCH_URL=None)
@pytest.mark.parametrize(
    ("route", "query"),
    [
        ("M1", "search=caf%C3%A9"),
        ("M1", "search=%EF%BF%BD"),  # U+FFFD sent on purpose is valid text
        ("M1", "tag=%F0%9F%9A%80&page=0002&limit=100"),
        ("M3", "q=caf%C3%A9&from=0&size=100"),
        ("M3", "q=%F0%9F%9A%80"),
        ("M22", "page=1&limit=1000"),
        ("M1", "page=9223372036854775807"),  # far past the end: an empty page, not an error
        ("M3", "from=9223372036854775807"),
    ],
)
def test_valid_query_values_are_accepted(api, urls, route, query):
    response = api.get(f"{urls[route]}?{query}")

    assert response.status_code == 200, response.content


# --- §1.4 text in JSON bodies, every route, dotted paths (defect 4) ----------------------------------------------

JSON_TEXT_CASES = [
    # (route, method, body with BAD where the bad text goes, the path of the error)
    ("M2", "post", {**MOC, "type": "BAD"}, "type"),
    ("M2", "post", {**MOC, "title": "Truck BAD"}, "title"),
    ("M2", "post", {**MOC, "tags": ["ok", "BAD"]}, "tags"),
    ("M2", "post", {**MOC, "uploadedDate": "2025-01-01BAD"}, "uploadedDate"),
    ("M2", "post", {**MOC, "clientNote": "BAD"}, "clientNote"),
    ("M5", "patch", {"tags": ["BAD"]}, "tags"),
    ("M5", "put", {"description": "BAD"}, "description"),
    (
        "M8",
        "post",
        {
            **MOC,
            "files": [{"filename": "BAD.pdf", "fileType": "instruction", "mimeType": "application/pdf", "size": 9}],
        },
        "files.0.filename",
    ),
    (
        "M9",
        "post",
        {"files": [{"filename": "a.pdf", "fileType": "BAD", "mimeType": "application/pdf", "size": 9}]},
        "files.0.fileType",
    ),
    ("M10", "post", {"uploadedFiles": [{"fileId": "BAD", "success": True}]}, "uploadedFiles.0.fileId"),
    (
        "M20",
        "post",
        {"title": "t", "parts": [{"partId": "3001", "quantity": 1, "partName": "BAD"}]},
        "parts.0.partName",
    ),
    ("M20", "post", {"title": "t", "parts": [{"partId": "3001", "quantity": 1}, {"partId": "BAD"}]}, "parts.1.partId"),
    ("M23", "patch", {"notes": "BAD"}, "notes"),
    ("M24", "put", {"notes": "BAD"}, "notes"),
]
BAD_JSON_TEXT = {
    "nul": ("\\u0000", NUL_MESSAGE),
    "high-surrogate": ("\\ud800", SURROGATE_MESSAGE),
    "low-surrogate": ("\\udc00", SURROGATE_MESSAGE),
    "reversed-pair": ("\\udc00\\ud800", SURROGATE_MESSAGE),
}


@pytest.mark.parametrize("kind", list(BAD_JSON_TEXT))
@pytest.mark.parametrize(("route", "method", "body", "path"), JSON_TEXT_CASES)
def test_json_text_with_nul_or_lone_surrogate_is_400_on_its_path(api, urls, route, method, body, path, kind):
    escape, message = BAD_JSON_TEXT[kind]
    raw = json.dumps(body).replace("BAD", escape)
    mocs_before = Moc.objects.count()

    response = getattr(api, method)(urls[route], data=raw, content_type="application/json")

    assert only_field(response, path) == [message]
    assert Moc.objects.count() == mocs_before


def test_a_surrogate_pair_is_valid_text(api):
    raw = json.dumps({**MOC, "title": "Rocket BAD", "tags": ["BAD"]}).replace("BAD", "\\ud83d\\ude80")

    response = api.post("/api/mocs", data=raw, content_type="application/json")

    assert response.status_code == 201, response.content
    assert response.json()["data"]["title"] == "Rocket \U0001f680"
    assert response.json()["data"]["tags"] == ["\U0001f680"]


def test_deeply_nested_text_is_reported_with_its_full_path(api):
    depth = JSON_MAX_DEPTH - 2  # the deepest body the parser takes: this object, `notes`, then `depth` levels
    raw = '{"notes":' + '{"a":' * depth + '"\\u0000"' + "}" * depth + "}"

    response = api.post("/api/mocs", data=raw, content_type="application/json")

    assert only_field(response, "notes" + ".a" * depth) == [NUL_MESSAGE]


def test_text_errors_come_after_the_ownership_check(other_api, moc):
    raw = '{"notes": "\\u0000"}'

    response = other_api.patch(f"/api/mocs/{moc.id}", data=raw, content_type="application/json")

    assert_error(response, 403, "FORBIDDEN", "You do not own this MOC")


# --- §1.4 text in multipart fields (defect 4) ----------------------------------------------------------------------

BOUNDARY = "input-rules-boundary-42"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(*parts: tuple[str, str | None, bytes], close: bool = True) -> bytes:
    """(field, filename or None for a text field, raw bytes) in order; `close=False` leaves out the closing
    delimiter, as a truncated upload would."""
    chunks = []
    for field, filename, body in parts:
        disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
        if filename:
            head += "Content-Type: application/octet-stream\r\n"
        chunks.append(head.encode() + b"\r\n" + body + b"\r\n")
    return b"".join(chunks) + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def moc_text_parts(**overrides: bytes) -> list[tuple[str, None, bytes]]:
    values = {key: str(value).encode() for key, value in MOC.items()} | overrides
    return [(key, None, value) for key, value in values.items()]


def multipart_cases(moc) -> list[tuple[str, list[tuple[str, str | None, bytes]], str]]:
    """(route, parts with b"BAD" where the bad text goes, field of the error) for every multipart route."""
    return [
        ("M7", [*moc_text_parts(title=b"Truck BAD"), ("instructionsFile", "a.pdf", PDF)], "title"),
        ("M7", [*moc_text_parts(tags=b'["castle", "BAD"]'), ("instructionsFile", "a.pdf", PDF)], "tags"),
        ("M11", [("fileType", None, b"instructionBAD"), ("file", "a.pdf", PDF)], "fileType"),
        ("M17", [("title", None, b"List BAD"), ("file", "bricks.csv", CSV)], "title"),
        ("M18", [("mocId", None, str(moc.id).encode() + b"BAD"), ("file", "bricks.csv", CSV)], "mocId"),
        ("M18", [("mocId", None, str(moc.id).encode()), ("title", None, b"BAD"), ("file", "b.csv", CSV)], "title"),
    ]


BAD_MULTIPART_TEXT = {
    "nul": (b"\x00", NUL_MESSAGE),
    "lone-surrogate": (b"\xed\xa0\x80", SURROGATE_MESSAGE),
    "invalid-utf8": (b"\xff", SURROGATE_MESSAGE),
}


@pytest.mark.parametrize("kind", list(BAD_MULTIPART_TEXT))
@pytest.mark.parametrize("case", range(6))
def test_multipart_text_with_nul_or_lone_surrogate_is_400_on_that_field(api, urls, moc, case, kind):
    route, parts, field = multipart_cases(moc)[case]
    bad, message = BAD_MULTIPART_TEXT[kind]
    body = multipart(*[(name, filename, value.replace(b"BAD", bad)) for name, filename, value in parts])

    response = api.post(urls[route], data=body, content_type=MULTIPART)

    assert only_field(response, field) == [message]
    assert not MocFile.objects.filter(moc=moc).exclude(original_filename="instructions.pdf").exists()


def test_multipart_text_in_utf8_is_kept_verbatim(api, moc):
    title = "Stückliste \U0001f680 \ufffd"
    body = multipart(("title", None, title.encode()), ("file", "bricks.csv", CSV))

    response = api.post(f"/api/mocs/{moc.id}/upload-parts-list", data=body, content_type=MULTIPART)

    assert response.status_code == 201, response.content
    assert response.json()["data"]["partsList"]["title"] == title


# --- §1.8 malformed multipart bodies (defect 7) -------------------------------------------------------------------


def multipart_body_for(route: str, moc) -> bytes:
    parts = {
        "M7": [*moc_text_parts(), ("instructionsFile", "a.pdf", PDF)],
        "M11": [("fileType", None, b"instruction"), ("file", "a.pdf", PDF)],
        "M17": [("file", "bricks.csv", CSV)],
        "M18": [("mocId", None, str(moc.id).encode()), ("file", "bricks.csv", CSV)],
    }[route]
    return multipart(*parts, close=False)


@pytest.mark.parametrize("route", ["M7", "M11", "M17", "M18"])
def test_multipart_body_without_its_closing_delimiter_is_malformed(api, urls, moc, route):
    files_before = MocFile.objects.filter(moc=moc).count()

    response = api.post(urls[route], data=multipart_body_for(route, moc), content_type=MULTIPART)

    assert_error(response, 400, "BAD_REQUEST", "Malformed multipart body")
    assert MocFile.objects.filter(moc=moc).count() == files_before
    assert Moc.objects.filter(user_id=moc.user_id).count() == 1


@pytest.mark.parametrize("route", ["M7", "M11", "M17", "M18"])
def test_empty_multipart_body_is_malformed(api, urls, route):
    assert_error(
        api.post(urls[route], data=b"", content_type=MULTIPART), 400, "BAD_REQUEST", "Malformed multipart body"
    )


@pytest.mark.parametrize("route", ["M7", "M11", "M17", "M18"])
def test_multipart_body_cut_inside_a_part_header_is_malformed(api, urls, moc, route):
    body = multipart_body_for(route, moc) + f"--{BOUNDARY}\r\nContent-Disposition: form-da".encode()

    assert_error(
        api.post(urls[route], data=body, content_type=MULTIPART), 400, "BAD_REQUEST", "Malformed multipart body"
    )


def test_a_closing_delimiter_followed_by_an_epilogue_is_well_formed(api, moc):
    body = multipart(("file", "bricks.csv", CSV)) + b"an epilogue, which RFC 2046 says to ignore\r\n"

    response = api.post(f"/api/mocs/{moc.id}/upload-parts-list", data=body, content_type=MULTIPART)

    assert response.status_code == 201, response.content


def test_a_body_with_only_the_closing_delimiter_is_well_formed_and_has_no_file(api, moc):
    body = f"--{BOUNDARY}--\r\n".encode()

    response = api.post(f"/api/mocs/{moc.id}/upload-parts-list", data=body, content_type=MULTIPART)

    assert_error(response, 400, "VALIDATION_ERROR", "No file provided")


# --- §1.8 empty JSON bodies (defect 7) ----------------------------------------------------------------------------

JSON_BODY_ROUTES = [
    ("M2", "post"),
    ("M5", "patch"),
    ("M5", "put"),
    ("M8", "post"),
    ("M9", "post"),
    ("M10", "post"),
    ("M20", "post"),
    ("M23", "patch"),
    ("M23", "put"),
    ("M24", "patch"),
    ("M24", "put"),
]


@pytest.mark.parametrize("body", [b"", b"  \r\n\t "])
@pytest.mark.parametrize(("route", "method"), JSON_BODY_ROUTES)
def test_empty_json_body_is_malformed(api, urls, route, method, body):
    response = getattr(api, method)(urls[route], data=body, content_type="application/json")

    error = assert_error(response, 400, "BAD_REQUEST", "Malformed JSON body")
    assert "details" not in error


@pytest.mark.parametrize(("route", "method"), JSON_BODY_ROUTES)
def test_empty_body_without_a_json_content_type_is_415(api, urls, route, method):
    response = getattr(api, method)(urls[route], data=b"", content_type="text/plain")

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")


def test_empty_json_body_comes_after_the_object_lookup(api):
    response = api.patch(f"/api/mocs/{uuid.uuid4()}", data=b"", content_type="application/json")

    assert_error(response, 404, "NOT_FOUND", "MOC not found")


def test_an_empty_json_object_is_still_a_body(api, urls):
    error = assert_error(api.post(urls["M2"], data=b"{}", content_type="application/json"), 400, "VALIDATION_ERROR")
    assert "type" in error["details"]["fields"]


@pytest.mark.parametrize("body", [b"", b"not json at all", b"{}"])
def test_routes_without_a_body_ignore_one(api, moc, parts_list, moc_file, body):
    base = f"/api/mocs/{moc.id}"
    for url in [base, f"{base}/parts-lists/{parts_list.id}", f"{base}/files/{moc_file.id}/download?format=json"]:
        response = api.generic("GET", url, body, content_type="application/json")
        assert response.status_code == 200, (url, response.content)
    for url in [f"{base}/files/{moc_file.id}", f"{base}/parts-lists/{parts_list.id}", base]:
        response = api.generic("DELETE", url, body, content_type="application/json")
        assert response.status_code == 200, (url, response.content)
    assert not Moc.objects.filter(pk=moc.pk).exists()


# --- §1.4 one boolean rule (defect 6) -----------------------------------------------------------------------------

BOOLEAN_FIELDS = [
    ("M23", "patch", "built"),
    ("M23", "put", "purchased"),
    ("M24", "patch", "built"),
    ("M24", "put", "purchased"),
]
REFUSED_BOOLEANS = ["yes", "no", "on", "t", "y", "2", "", "truthy", 1, 0, 1.0, [], {}]
ACCEPTED_BOOLEANS = [(True, True), (False, False), ("true", True), ("FALSE", False), ("1", True), ("0", False)]


@pytest.mark.parametrize("value", REFUSED_BOOLEANS, ids=repr)
@pytest.mark.parametrize(("route", "method", "field"), BOOLEAN_FIELDS)
def test_json_booleans_other_than_true_false_1_0_are_400(api, urls, parts_list, route, method, field, value):
    response = getattr(api, method)(urls[route], {field: value}, format="json")

    assert only_field(response, field) == [BOOLEAN_MESSAGE]
    parts_list.refresh_from_db()
    assert getattr(parts_list, field) is False


@pytest.mark.parametrize(("value", "expected"), ACCEPTED_BOOLEANS, ids=repr)
@pytest.mark.parametrize(("route", "method", "field"), BOOLEAN_FIELDS)
def test_json_booleans_accept_true_false_and_the_strings(api, urls, parts_list, route, method, field, value, expected):
    response = getattr(api, method)(urls[route], {field: value}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["data"][field] is expected


@pytest.mark.parametrize("value", ["yes", "n", 1, None, ""], ids=repr)
def test_finalize_success_follows_the_boolean_rule(api, urls, moc, value):
    pending = MocFileFactory(moc=moc, status="pending")

    response = api.post(urls["M10"], {"uploadedFiles": [{"fileId": str(pending.id), "success": value}]}, format="json")

    expected = "This field may not be null." if value is None else BOOLEAN_MESSAGE
    assert only_field(response, "uploadedFiles.0.success") == [expected]
    pending.refresh_from_db()
    assert pending.status == "pending"


@pytest.mark.parametrize("value", ["yes", "on", "2", 1], ids=repr)
def test_moc_write_booleans_follow_the_same_rule(api, value):
    assert only_field(api.post("/api/mocs", {**SET, "retired": value}, format="json"), "retired") == [BOOLEAN_MESSAGE]


@pytest.mark.parametrize(("value", "expected"), [(b"TRUE", True), (b"0", False), (b" true ", True)])
def test_multipart_booleans(api, value, expected):
    parts = [(key, None, str(val).encode()) for key, val in SET.items()] + [("retired", None, value)]
    body = multipart(*parts, ("instructionsFile", "a.pdf", PDF))

    response = api.post("/api/mocs/with-files", data=body, content_type=MULTIPART)

    assert response.status_code == 201, response.content
    assert response.json()["data"]["retired"] is expected


def test_multipart_boolean_yes_is_400(api):
    parts = [(key, None, str(val).encode()) for key, val in SET.items()] + [("retired", None, b"yes")]
    body = multipart(*parts, ("instructionsFile", "a.pdf", PDF))

    assert only_field(api.post("/api/mocs/with-files", data=body, content_type=MULTIPART), "retired") == [
        BOOLEAN_MESSAGE
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("False", False), ("1", True), ("0", False), (" TRUE ", True), (None, None), ("", None)],
)
def test_query_booleans(rf, raw, expected):
    from lego_api.core.query import query_bool

    query = {} if raw is None else {"flagged": raw}
    assert query_bool(rf.get("/api/images", query), "flagged") is expected


@pytest.mark.parametrize("raw", ["yes", "no", "2", "t", "a\x00"])
def test_query_booleans_refuse_anything_else(rf, raw):
    from lego_api.core.query import query_bool

    with pytest.raises(ValidationFailed) as caught:
        query_bool(rf.get("/api/images", {"flagged": raw}), "flagged")
    assert list(caught.value.details["fields"]) == ["flagged"]


# --- §1.4 a string array value that starts with `[` must parse (defect 6) ----------------------------------------


@pytest.mark.parametrize("tags", [b'["a",', b'["a"] trailing', b"[1, 2]", b'["a", null]', b"[", b' [{"a": 1}]'])
def test_multipart_tags_starting_with_a_bracket_must_be_a_json_array_of_strings(api, tags):
    body = multipart(*moc_text_parts(tags=tags), ("instructionsFile", "a.pdf", PDF))

    response = api.post("/api/mocs/with-files", data=body, content_type=MULTIPART)

    assert only_field(response, "tags") == [ARRAY_MESSAGE]
    assert not Moc.objects.filter(title=MOC["title"]).exists()


@pytest.mark.parametrize(
    ("tags", "expected"),
    [(b'["Castle", "space"]', ["castle", "space"]), (b"[]", []), (b"castle", ["castle"]), (b"{a}", ["{a}"])],
)
def test_multipart_tags_that_parse_or_do_not_start_with_a_bracket(api, tags, expected):
    body = multipart(*moc_text_parts(tags=tags), ("instructionsFile", "a.pdf", PDF))

    response = api.post("/api/mocs/with-files", data=body, content_type=MULTIPART)

    assert response.status_code == 201, response.content
    assert response.json()["data"]["tags"] == expected


def test_json_tags_as_a_broken_array_string_are_400(api):
    assert only_field(api.post("/api/mocs", {**MOC, "tags": '["a",'}, format="json"), "tags") == [ARRAY_MESSAGE]


@pytest.mark.parametrize(("raw", "expected"), [('["a", "b"]', ["a", "b"]), (None, None)])
def test_query_string_arrays(rf, raw, expected):
    from lego_api.core.query import query_string_array

    query = {} if raw is None else {"ids": raw}
    assert query_string_array(rf.get("/api/x", query), "ids") == expected


def test_query_string_arrays_that_do_not_parse_are_400(rf):
    from lego_api.core.query import query_string_array

    with pytest.raises(ValidationFailed) as caught:
        query_string_array(rf.get("/api/x", {"ids": '["a",'}), "ids")
    assert caught.value.details["fields"] == {"ids": [ARRAY_MESSAGE]}


# --- §1.5 years 1000-9999 in, always 4 digits out (defect 8) ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(1, 1, 1, tzinfo=dt.UTC), "0001-01-01T00:00:00.000Z"),
        (dt.datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), "0999-12-31T23:59:59.999Z"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC), "9999-12-31T23:59:59.999Z"),
        (dt.datetime(1000, 1, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))), "1000-01-01T00:00:00.000Z"),
    ],
)
def test_timestamps_are_written_with_a_four_digit_year(value, expected):
    assert format_timestamp(value) == expected


def test_a_stored_year_before_1000_is_sent_zero_padded(api, owner):
    moc = MocFactory(user_id=owner, uploaded_date=dt.datetime(5, 3, 4, 1, 2, 3, tzinfo=dt.UTC))

    detail = api.get(f"/api/mocs/{moc.id}").json()["data"]
    listed = api.get("/api/mocs").json()["data"]

    assert detail["uploadedDate"] == "0005-03-04T01:02:03.000Z"
    assert [item["uploadedDate"] for item in listed] == ["0005-03-04T01:02:03.000Z"]


OUT_OF_RANGE_DATES = [
    "0999-12-31T23:59:59Z",
    "0999-12-31",
    "0001-01-01T00:00:00Z",
    "1000-01-01T00:30:00+01:00",  # 0999-12-31T23:30Z after conversion
    "0999-12-31T23:30:00-01:00",  # year 999 before conversion
    "9999-12-31T23:30:00-01:00",  # year 10000 after conversion
    "0001-01-01T00:00:00+01:00",
]


@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES)
def test_uploaded_date_out_of_1000_9999_is_400_on_json_routes(api, moc, value):
    only_field(api.post("/api/mocs", {**MOC, "uploadedDate": value}, format="json"), "uploadedDate")
    only_field(api.patch(f"/api/mocs/{moc.id}", {"uploadedDate": value}, format="json"), "uploadedDate")
    assert not Moc.objects.filter(title=MOC["title"]).exists()


@pytest.mark.parametrize("value", ["0999-12-31T23:59:59Z", "1000-01-01T00:30:00+01:00"])
def test_uploaded_date_out_of_range_message(api, value):
    assert only_field(api.post("/api/mocs", {**MOC, "uploadedDate": value}, format="json"), "uploadedDate") == [
        YEAR_MESSAGE
    ]


@pytest.mark.parametrize("value", OUT_OF_RANGE_DATES[:4])
def test_uploaded_date_out_of_range_is_400_on_multipart_and_presigned_creates(api, value):
    body = multipart(*moc_text_parts(uploadedDate=value.encode()), ("instructionsFile", "a.pdf", PDF))
    only_field(api.post("/api/mocs/with-files", data=body, content_type=MULTIPART), "uploadedDate")

    declared = [{"filename": "a.pdf", "fileType": "instruction", "mimeType": "application/pdf", "size": len(PDF)}]
    response = api.post(
        "/api/mocs/with-files/initialize", {**MOC, "uploadedDate": value, "files": declared}, format="json"
    )
    only_field(response, "uploadedDate")
    assert not Moc.objects.filter(title=MOC["title"]).exists()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1000-01-01T00:00:00Z", "1000-01-01T00:00:00.000Z"),
        ("1000-01-01", "1000-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
        ("1000-01-01T01:30:00+01:00", "1000-01-01T00:30:00.000Z"),
    ],
)
def test_uploaded_date_edges_are_accepted(api, value, expected):
    response = api.post("/api/mocs", {**MOC, "uploadedDate": value}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["data"]["uploadedDate"] == expected
    assert api.get(f"/api/mocs/{response.json()['data']['id']}").json()["data"]["uploadedDate"] == expected
