"""The rate limiter (SPEC §2.4): categories, keys, headers, 429 with Retry-After; limits set small for speed."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

limits = override_settings(
    RATE_LIMIT_ENABLED=True, RATE_LIMIT_GENERAL="6/900", RATE_LIMIT_UPLOAD="3/3600", RATE_LIMIT_AUTH="2/900"
)


@limits
def test_upload_category_returns_429_with_retry_after(auth_client):
    api = auth_client("uploader")
    # M18 with an empty body: a 400 from validation, which runs after the limiter and still counts (SPEC §2.1).
    statuses = [api.post("/api/mocs/upload-parts-list", {}, format="multipart").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    response = api.post("/api/mocs/upload-parts-list", {}, format="multipart")
    body = response.json()
    assert body["error"]["type"] == "TOO_MANY_REQUESTS"
    assert body["error"]["message"] == "Too many requests, please try again later"
    assert body["error"]["details"]["category"] == "upload"
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 3600
    assert body["error"]["details"]["retryAfter"] == retry_after
    assert response["RateLimit-Policy"] == "3;w=3600"
    assert response["RateLimit-Remaining"] == "0"


@limits
def test_limits_are_per_user(auth_client):
    for _ in range(4):
        auth_client("busy").post("/api/mocs/upload-parts-list", {}, format="multipart")
    assert auth_client("busy").post("/api/mocs/upload-parts-list", {}, format="multipart").status_code == 429
    assert auth_client("idle").post("/api/mocs/upload-parts-list", {}, format="multipart").status_code == 400


@limits
def test_general_limit_counts_unknown_routes_and_bad_tokens_by_ip(client):
    for _ in range(6):
        response = client.get("/api/no-such-route", HTTP_AUTHORIZATION="Bearer junk")
        assert response.status_code == 404  # an unknown route is 404 whatever the token (SPEC §2.1 step 3)
    response = client.get("/api/no-such-route", HTTP_AUTHORIZATION="Bearer junk")
    assert response.status_code == 429
    assert response.json()["error"]["details"]["category"] == "general"


@limits
def test_headers_on_limited_routes(auth_client):
    response = auth_client("hdr").get("/api/test/echo")
    assert response.status_code == 200
    assert response["RateLimit-Policy"] == "6;w=900"
    assert response["RateLimit-Limit"] == "6"
    assert response["RateLimit-Remaining"] == "5"
    assert 0 < int(response["RateLimit-Reset"]) <= 900


@limits
def test_auth_category_counts_only_failures(auth_client):
    api = auth_client("profile-prober")
    # /api/users/** counts responses >= 400; two failures exhaust a 2/900 window.
    assert api.get("/api/users/someone-else/not-a-route").status_code == 404
    assert api.get("/api/users/someone-else/not-a-route").status_code == 404
    response = api.get("/api/users/someone-else/not-a-route")
    assert response.status_code == 429
    assert response.json()["error"]["details"]["category"] == "auth"


@limits
def test_health_schema_and_preflight_are_never_limited(client):
    for _ in range(8):
        assert client.get("/health?shallow=1").status_code == 200
        assert client.get("/api/schema").status_code == 200
        assert (
            client.options(
                "/api/test/echo", HTTP_ORIGIN="http://localhost:5173", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
            ).status_code
            == 200
        )


@override_settings(RATE_LIMIT_ENABLED=False, RATE_LIMIT_GENERAL="1/900")
def test_disabled_limiter_lets_everything_through(auth_client):
    api = auth_client("free")
    assert all(api.get("/api/test/echo").status_code == 200 for _ in range(5))


def test_client_ip_on_lambda_is_api_gateways_source_ip(rf):
    from lego_api.core.ratelimit import client_ip

    request = rf.get("/api/mocs", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.1", REMOTE_ADDR="6.6.6.6")
    request.META["lambda.event"] = {"requestContext": {"identity": {"sourceIp": "203.0.113.7"}}}
    assert client_ip(request) == "203.0.113.7"
    plain = rf.get("/api/mocs", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="198.51.100.2")
    assert client_ip(plain) == "198.51.100.2"


@limits
def test_requests_over_the_body_cap_still_count_and_get_429(auth_client):
    api = auth_client("oversized")
    oversized = {"content_type": "multipart/form-data; boundary=x", "CONTENT_LENGTH": str(56 * 1024 * 1024)}
    statuses = [api.post("/api/mocs/upload-parts-list", b"", **oversized).status_code for _ in range(4)]
    assert statuses == [413, 413, 413, 429]
