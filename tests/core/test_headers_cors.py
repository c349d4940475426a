"""Security headers on every response and the CORS allow-list (SPEC §2.5, §2.6)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from lego_api.core.middleware import ADMIN_REFERRER_POLICY, SECURITY_HEADERS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/health?shallow=1"),
        ("get", "/api/test/public"),
        ("get", "/api/test/echo"),
        ("get", "/nope"),
        ("get", "/admin/login/"),
    ],
)
def test_security_headers_on_every_response(client, method, path):
    response = getattr(client, method)(path)
    expected = dict(SECURITY_HEADERS)
    if path.startswith("/admin/"):
        expected["Referrer-Policy"] = ADMIN_REFERRER_POLICY  # its forms must post an Origin (test_browser.py)
    for name, value in expected.items():
        assert response[name] == value, name
    assert "Strict-Transport-Security" not in response  # production only
    assert "Server" not in response and "X-Powered-By" not in response
    assert response["X-Request-ID"]


def test_api_responses_are_not_cached(client):
    assert client.get("/api/test/public")["Cache-Control"] == "no-store"


@override_settings(IS_PRODUCTION=True)
def test_hsts_in_production(client):
    response = client.get("/health?shallow=1", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_cors_allows_a_configured_origin(client):
    response = client.get("/api/test/public", HTTP_ORIGIN="http://localhost:5173")
    assert response["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert response["Access-Control-Allow-Credentials"] == "true"
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "retry-after", "ratelimit-remaining", "ratelimit-policy"} <= exposed
    assert "origin" in response["Vary"].lower()


def test_cors_preflight(client):
    response = client.options(
        "/api/test/echo",
        HTTP_ORIGIN="http://localhost:5173",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, x-csrf-token",
    )
    assert response.status_code == 200
    assert response["Access-Control-Max-Age"] == "86400"
    methods = {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"content-type", "authorization", "x-requested-with", "x-csrf-token", "cache-control"}


def test_cors_ignores_other_origins_but_still_answers(client):
    response = client.get("/api/test/public", HTTP_ORIGIN="https://evil.example.com")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_cors_follows_configuration(client):
    assert "Access-Control-Allow-Origin" not in client.get("/api/test/public", HTTP_ORIGIN="http://localhost:5173")
    allowed = client.get("/api/test/public", HTTP_ORIGIN="https://app.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
