"""CSRF double submit for cookie-authenticated unsafe requests (SPEC §2.3)."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

ECHO = "/api/test/echo"
BODY = {"title": "Truck", "partsCount": 3}


@pytest.fixture
def cookie_client(client, issuer):
    client.cookies["token"] = issuer.token("cookie-user")
    return client


def csrf_token(client) -> str:
    response = client.get("/api/csrf")
    assert response.status_code == 200
    return response.json()["data"]["token"]


def assert_csrf_failed(response, reason: str = "CSRF_FAILED", message: str = "CSRF validation failed") -> None:
    assert response.status_code == 403, response.content
    assert response.json()["error"] == {"type": "FORBIDDEN", "message": message, "details": {"reason": reason}}


def test_csrf_endpoint_issues_token_and_cookie(client):
    response = client.get("/api/csrf")
    token = response.json()["data"]["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    cookie = response.cookies["XSRF-TOKEN"]
    assert cookie.value == token
    assert cookie["max-age"] == 7200
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["httponly"]
    assert not cookie["secure"]
    assert response["Cache-Control"] == "no-store"


def test_csrf_endpoint_reuses_a_valid_cookie(client):
    first = csrf_token(client)
    assert csrf_token(client) == first


def test_csrf_endpoint_replaces_an_invalid_cookie(client):
    client.cookies["XSRF-TOKEN"] = "not-hex"
    assert csrf_token(client) != "not-hex"


def test_cookie_post_without_header_is_refused(cookie_client):
    csrf_token(cookie_client)
    assert_csrf_failed(cookie_client.post(ECHO, BODY, format="json"))


def test_cookie_post_with_wrong_header_is_refused(cookie_client):
    csrf_token(cookie_client)
    assert_csrf_failed(cookie_client.post(ECHO, BODY, format="json", HTTP_X_CSRF_TOKEN="0" * 64))


def test_cookie_post_with_right_header_passes(cookie_client):
    token = csrf_token(cookie_client)
    response = cookie_client.post(ECHO, BODY, format="json", HTTP_X_CSRF_TOKEN=token)
    assert response.status_code == 200
    assert response.json()["data"]["userId"] == "cookie-user"


def test_cookie_get_needs_no_csrf(cookie_client):
    assert cookie_client.get(ECHO).status_code == 200


def test_bearer_post_needs_no_csrf(client, issuer):
    response = client.post(ECHO, BODY, format="json", HTTP_AUTHORIZATION=f"Bearer {issuer.token('bearer-user')}")
    assert response.status_code == 200


def test_no_credential_gets_401_not_403(anonymous):
    assert anonymous.post(ECHO, BODY, format="json").status_code == 401


@override_settings(IS_PRODUCTION=True, CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_production_checks_origin_first(cookie_client):
    token = csrf_token(cookie_client)
    assert_csrf_failed(
        cookie_client.post(ECHO, BODY, format="json", HTTP_X_CSRF_TOKEN=token),
        reason="INVALID_ORIGIN",
        message="Invalid origin",
    )
    assert_csrf_failed(
        cookie_client.post(ECHO, BODY, format="json", HTTP_X_CSRF_TOKEN=token, HTTP_ORIGIN="https://evil.example.com"),
        reason="INVALID_ORIGIN",
        message="Invalid origin",
    )
    ok = cookie_client.post(ECHO, BODY, format="json", HTTP_X_CSRF_TOKEN=token, HTTP_ORIGIN="https://app.example.com")
    assert ok.status_code == 200
    via_referer = cookie_client.post(
        ECHO, BODY, format="json", HTTP_X_CSRF_TOKEN=token, HTTP_REFERER="https://app.example.com/mocs/1"
    )
    assert via_referer.status_code == 200
