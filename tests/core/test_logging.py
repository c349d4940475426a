"""Request logging (SPEC §1.10): one JSON line per request with the request's facts, errors with their type and a
500's traceback under its request id, `/health` below INFO, and never a token, a cookie or a body in any record.
The lines are the real `JsonFormatter` output, captured from a handler added for the test."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lego_api.core.logging import JsonFormatter

pytestmark = pytest.mark.django_db

# Loggers that do not propagate to the root (settings.LOGGING) get the capture handler too.
NON_PROPAGATING = ("django.request", "django.server")


class LogCapture:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        """Every record, each one JSON object on one line."""
        return [json.loads(line) for line in self.text.splitlines()]

    def requests(self) -> list[dict]:
        return [line for line in self.lines() if line["logger"] == "lego_api.request"]

    def request_line(self, request_id: str) -> dict:
        [line] = [line for line in self.requests() if line["requestId"] == request_id]
        return line


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    targets = [logging.getLogger(), *(logging.getLogger(name) for name in NON_PROPAGATING)]
    for logger in targets:
        logger.addHandler(handler)
    yield capture
    for logger in targets:
        logger.removeHandler(handler)


@pytest.fixture
def everything_at_debug() -> Iterator[None]:
    """Every logger at DEBUG, so that no record a setting would hide escapes the secret checks."""
    names = ["", "lego_api", "mocs", "profiles", "django", *NON_PROPAGATING]
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


# --- One line per request ---------------------------------------------------------------------------------------------


def test_authenticated_request_logs_one_line_with_its_facts(auth_client, logs):
    response = auth_client("alice").get("/api/test/echo?q=1", HTTP_X_REQUEST_ID="req-logging-0001")
    assert response.status_code == 200

    [line] = logs.requests()
    assert line["requestId"] == "req-logging-0001" == response["X-Request-ID"]
    assert line["method"] == "GET"
    assert line["path"] == "/api/test/echo"  # the query string is not logged
    assert line["status"] == 200
    assert isinstance(line["durationMs"], int | float) and line["durationMs"] >= 0
    assert line["userId"] == "alice"
    assert line["level"] == "INFO" and line["message"] == "request"
    assert "errorType" not in line


@pytest.mark.parametrize(
    "path,headers,status,error_type",
    [
        ("/api/test/echo", {}, 401, "UNAUTHORIZED"),
        ("/api/test/echo", {"HTTP_AUTHORIZATION": "Bearer not-a-jwt"}, 401, "UNAUTHORIZED"),
        ("/api/nowhere", {}, 404, "NOT_FOUND"),
        ("/nowhere", {}, 404, "NOT_FOUND"),
    ],
)
def test_error_responses_log_their_error_type(client, logs, path, headers, status, error_type):
    response = client.get(path, **headers)
    assert response.status_code == status
    line = logs.request_line(response["X-Request-ID"])
    assert (line["status"], line["errorType"], line["userId"]) == (status, error_type, None)


def test_validation_error_is_logged_with_the_user(auth_client, logs):
    response = auth_client("bob").post("/api/test/echo", {"title": "x" * 11, "partsCount": 0}, format="json")
    assert response.status_code == 400
    line = logs.request_line(response["X-Request-ID"])
    assert (line["method"], line["errorType"], line["userId"]) == ("POST", "VALIDATION_ERROR", "bob")


def test_a_500_logs_its_traceback_under_the_request_id(client, logs):
    response = client.get("/api/test/boom", HTTP_X_REQUEST_ID="req-boom-000001")
    assert response.status_code == 500

    line = logs.request_line("req-boom-000001")
    assert (line["status"], line["errorType"], line["level"]) == (500, "INTERNAL_ERROR", "ERROR")
    [error] = [record for record in logs.lines() if record["logger"] == "lego_api.errors"]
    assert error["requestId"] == "req-boom-000001"
    assert error["level"] == "ERROR"
    assert "Traceback" in error["exc_info"] and "RuntimeError" in error["exc_info"]
    assert "boom_view" in error["exc_info"]
    # The client still sees nothing of it.
    assert "SELECT" not in response.content.decode()


def test_every_record_is_one_json_line(client, auth_client, logs):
    client.get("/api/test/boom")
    auth_client("carol").get("/api/test/echo")
    assert logs.text.endswith("\n")
    assert len(logs.lines()) == logs.text.count("\n") >= 3


# --- /health -----------------------------------------------------------------------------------------------------------


def test_health_is_not_logged_at_info(client, logs):
    assert client.get("/health").status_code == 200
    assert client.get("/health?shallow=1").status_code == 200
    client.get("/api/csrf")  # a neighbour that is logged, so the capture is known to work

    assert [line["path"] for line in logs.requests()] == ["/api/csrf"]


def test_health_is_logged_at_debug_when_asked(client, logs, everything_at_debug):
    client.get("/health?shallow=1")
    [line] = logs.requests()
    assert (line["path"], line["level"]) == ("/health", "DEBUG")


# --- Secrets never logged ---------------------------------------------------------------------------------------------


def test_tokens_cookies_and_bodies_never_reach_a_log_record(client, token_for, logs, everything_at_debug):
    bearer = token_for("dave", email="dave@example.com")
    cookie_token = token_for("erin")
    markers = {
        "cookie": f"cookie-{secrets.token_hex(8)}",
        "body": f"b{secrets.token_hex(4)}",  # title allows 10 characters
        "bad-body": f"bad-body-{secrets.token_hex(8)}",
        "file": f"file-content-{secrets.token_hex(8)}",
        "csrf": secrets.token_hex(32),
    }
    client.cookies["sessionid"] = markers["cookie"]
    client.cookies["XSRF-TOKEN"] = markers["csrf"]
    client.cookies["token"] = cookie_token
    bearer_header = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"}

    responses = [
        client.post("/api/test/echo", {"title": markers["body"], "partsCount": 2}, format="json", **bearer_header),
        client.post("/api/test/echo", {"title": markers["bad-body"], "partsCount": 0}, format="json", **bearer_header),
        client.post(
            "/api/test/echo",
            b'{"title": "' + markers["bad-body"].encode(),
            content_type="application/json",
            **bearer_header,
        ),
        client.post(
            "/api/test/multipart",
            {"file": SimpleUploadedFile("notes.txt", markers["file"].encode()), "note": markers["body"]},
            format="multipart",
            HTTP_X_CSRF_TOKEN=markers["csrf"],
        ),
        client.get("/api/test/echo", HTTP_AUTHORIZATION=f"Bearer {bearer[:-4]}AAAA"),  # a bad signature
        client.get("/api/test/boom", **bearer_header),
        client.get("/api/test/echo"),  # cookie-authenticated
    ]
    assert [r.status_code for r in responses] == [200, 400, 400, 201, 401, 500, 200]

    assert len(logs.requests()) == len(responses)
    assert {line["userId"] for line in logs.requests()} >= {"dave", "erin"}
    secrets_sent = [bearer, cookie_token, bearer[:-4], *markers.values()]
    # Tokens are also checked piecewise: a signature or payload segment alone is as bad.
    secrets_sent += [part for token in (bearer, cookie_token) for part in token.split(".")[1:]]
    for secret in secrets_sent:
        assert secret not in logs.text
