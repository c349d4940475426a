"""Every error leaves in the SPEC §1.1 envelope with a requestId, and nothing internal leaks (SPEC §1.2, §1.3)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

UUID_RE = re.compile(r"^[0-9a-f-]{36}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def assert_error(response, status: int, error_type: str, message: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is False
    assert body["error"]["type"] == error_type
    if message is not None:
        assert body["error"]["message"] == message
    assert TIMESTAMP_RE.match(body["timestamp"])
    assert body["requestId"] == response["X-Request-ID"]
    return body


def test_unknown_api_route_is_404_enveloped(auth_client):
    assert_error(auth_client().get("/api/nothing-here"), 404, "NOT_FOUND", "Route not found")


def test_unknown_route_outside_api_is_404_enveloped(client):
    assert_error(client.get("/definitely/not/here"), 404, "NOT_FOUND", "Route not found")


def test_wrong_method_is_405_with_allow(auth_client):
    response = auth_client().put("/api/test/echo", {}, format="json")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


def test_health_wrong_method_is_405_enveloped(client):
    assert_error(client.post("/health"), 405, "METHOD_NOT_ALLOWED")


def test_malformed_json_is_400_bad_request(auth_client):
    response = auth_client().post("/api/test/echo", data='{"title": ', content_type="application/json")
    body = assert_error(response, 400, "BAD_REQUEST", "Malformed JSON body")
    assert "details" not in body["error"]


def test_wrong_content_type_is_415(auth_client):
    response = auth_client().post("/api/test/echo", data="title=x", content_type="text/plain")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")


def test_wrong_content_type_on_multipart_route_names_multipart(auth_client):
    response = auth_client().post("/api/test/multipart", data="{}", content_type="application/json")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be multipart/form-data")


def test_malformed_multipart_is_400(auth_client):
    response = auth_client().post("/api/test/multipart", data=b"--x\r\nbroken", content_type="multipart/form-data")
    assert_error(response, 400, "BAD_REQUEST", "Malformed multipart body")


@pytest.mark.parametrize("depth", [900, 100_000])
def test_absurdly_nested_json_is_400_bad_request_not_a_500(auth_client, depth):
    body = '{"a":' * depth + "1" + "}" * depth
    response = auth_client().post("/api/test/echo", data=body, content_type="application/json")
    assert_error(response, 400, "BAD_REQUEST", "Malformed JSON body")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_400_bad_request(auth_client, constant):
    body = f'{{"title": {constant}, "partsCount": 1}}'
    response = auth_client().post("/api/test/echo", data=body, content_type="application/json")
    assert_error(response, 400, "BAD_REQUEST", "Malformed JSON body")


def test_json_body_over_2mb_is_413(auth_client):
    big = '{"title": "' + "x" * (2 * 1024 * 1024 + 10) + '"}'
    response = auth_client().post("/api/test/echo", data=big, content_type="application/json")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE", "Request body too large")


def test_request_over_the_55mb_cap_is_413_before_reading(auth_client):
    response = auth_client().post(
        "/api/test/multipart",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(56 * 1024 * 1024),
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE", "Request body too large")


def test_anonymous_request_over_the_cap_gets_401_first(anonymous):
    response = anonymous.post(
        "/api/test/multipart",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(56 * 1024 * 1024),
    )
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")


def test_validation_errors_carry_camel_case_fields(auth_client):
    response = auth_client().post("/api/test/echo", {"title": "x" * 11, "partsCount": 0}, format="json")
    body = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    fields = body["error"]["details"]["fields"]
    assert set(fields) == {"title", "partsCount"}
    assert all(isinstance(m, str) for messages in fields.values() for m in messages)


def test_unexpected_exception_is_500_without_details_or_internals(auth_client, caplog):
    response = auth_client().get("/api/test/boom")
    body = assert_error(response, 500, "INTERNAL_ERROR", "An unexpected error occurred")
    assert "details" not in body["error"]
    assert b"SELECT" not in response.content and b"Traceback" not in response.content
    logged = [r for r in caplog.records if r.name == "lego_api.errors"]
    assert logged and logged[0].exc_info is not None
    assert logged[0].requestId == body["requestId"]


def test_incoming_request_id_is_echoed_when_well_formed(auth_client):
    response = auth_client().get("/api/nothing", HTTP_X_REQUEST_ID="client-req-12345")
    assert response["X-Request-ID"] == "client-req-12345"
    assert response.json()["requestId"] == "client-req-12345"
    bad = auth_client().get("/api/nothing", HTTP_X_REQUEST_ID="bad id with spaces")
    assert UUID_RE.match(bad["X-Request-ID"])


def test_success_envelope_shape(client):
    response = client.get("/api/test/public")
    body = response.json()
    assert list(body) == ["success", "data", "timestamp"]
    assert body["success"] is True and body["data"] == {"ok": True}
    assert TIMESTAMP_RE.match(body["timestamp"])


def test_accept_header_is_ignored(client):
    response = client.get("/api/test/public", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("query", ["?format=json", "?format=xml", "?format=api"])
def test_accept_is_ignored_whatever_the_format_parameter(client, query):
    response = client.get(f"/api/test/public{query}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["data"] == {"ok": True}


def test_plain_options_is_405_not_a_metadata_page(auth_client):
    response = auth_client().options("/api/test/echo")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
