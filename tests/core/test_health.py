"""C1 `GET /health` against the real services (SPEC §7.1): healthy, degraded, unhealthy."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from lego_api.core import health


def components_of(response) -> dict:
    return response.json()["data"]["components"]


@pytest.mark.django_db
def test_healthy_with_everything_up(client):
    response = client.get("/health")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "healthy"
    assert data["version"] == settings.APP_VERSION and data["environment"] == "local"
    assert {name: c["status"] for name, c in data["components"].items()} == {
        "database": "up",
        "cache": "up",
        "search": "up",
        "storage": "up",
    }
    assert all(isinstance(c["latencyMs"], int) for c in data["components"].values())
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_shallow_health_checks_nothing(client):
    response = client.get("/health?shallow=1")
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "alive", "version": settings.APP_VERSION}


@pytest.mark.django_db
@pytest.mark.parametrize("flag", ["true", "TRUE", "True"])
def test_shallow_flag_is_a_case_insensitive_boolean(client, flag):
    assert client.get(f"/health?shallow={flag}").json()["data"]["status"] == "alive"


@pytest.mark.django_db
def test_degraded_with_redis_stopped(client, services):
    services.redis.stop()
    try:
        response = client.get("/health")
    finally:
        services.redis.start()
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "degraded"
    assert data["components"]["cache"]["status"] == "down"
    assert data["components"]["cache"]["error"]
    assert data["components"]["database"]["status"] == "up"


@pytest.mark.django_db
def test_degraded_with_search_stopped(client, services):
    services.opensearch.stop()
    try:
        response = client.get("/health")
    finally:
        services.opensearch.start()
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "degraded"
    assert data["components"]["search"]["status"] == "down"
    assert data["components"]["search"]["latencyMs"] <= 2500


@pytest.mark.django_db(transaction=True)
def test_unhealthy_503_with_postgres_unreachable(client, tmp_path):
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict["HOST"] = str(tmp_path)  # a socket directory with no server in it
    try:
        response = client.get("/health")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False
    assert body["error"]["type"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["message"] == "Database unavailable"
    details = body["error"]["details"]
    assert details["status"] == "unhealthy"
    assert details["components"]["database"]["status"] == "down"
    assert details["components"]["database"]["error"] == "OperationalError"
    assert body["requestId"]


@pytest.mark.django_db
def test_results_are_memoised_for_ten_seconds(client, services):
    assert client.get("/health").json()["data"]["status"] == "healthy"
    services.redis.stop()
    try:
        assert client.get("/health").json()["data"]["status"] == "healthy"  # memoised
        health.reset_memo()
        assert client.get("/health").json()["data"]["status"] == "degraded"
    finally:
        services.redis.start()
