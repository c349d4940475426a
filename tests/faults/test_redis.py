"""Redis stalled (SIGSTOP), stopped and restarted under the API (SPEC §6.1 "Consistency under faults", §2.4 "Cache
down", §7.1): requests answer correctly and pay one 250 ms timeout, not one per cache call; a write that answered
2xx is what its owner reads next, through the pause, the resume and a restart; health reports the real state.

Time is a `ManualClock` installed as the breaker's clock: the breaker's 5 s and the debt check's 1 s pass when the
test says so."""

from __future__ import annotations

import pytest
import redis.connection
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from lego_api.core import health, redis_breaker
from lego_api.core.cache import cache_get, get_versions, response_key
from lego_api.core.models import CacheDebt
from lego_api.core.redis_breaker import breaker
from mocs.models import Moc
from tests.factories import GalleryImageFactory
from tests.gallery.conftest import photo_bytes
from tests.helpers import assert_error, entry_result

# Writes must commit for their after-commit bumps (and debts) to run, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NEW_MOC = {"type": "moc", "title": "Old title", "author": "Jane", "partsCount": 10, "theme": "City", "setNumber": "M-1"}


@pytest.fixture
def redis_commands(monkeypatch) -> list:
    """Every command the process writes to a Redis socket (what the breaker must keep to one during an outage)."""
    sent: list = []
    write = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return write(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.fixture
def moc_id(api) -> str:
    response = api.post("/api/mocs", NEW_MOC, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


@pytest.fixture
def moc_url(moc_id) -> str:
    return f"/api/mocs/{moc_id}"


def read(api, url: str) -> tuple[str, str]:
    """`(X-Cache, title)` of a 200 MOC detail."""
    response = api.get(url)
    assert response.status_code == 200, response.content
    return response["X-Cache"], response.json()["data"]["title"]


def debts() -> list[tuple[str, str]]:
    return sorted(CacheDebt.objects.values_list("user_id", "family"))


def test_a_paused_redis_costs_one_timeout_and_every_route_still_answers(
    api, moc_url, services, clock, redis_commands, settings, caplog
):
    settings.RATE_LIMIT_ENABLED = True  # the limiter is a cache user too (SPEC §2.4 "Cache down")
    with services.redis.paused():
        redis_commands.clear()
        assert read(api, moc_url) == ("MISS", "Old title")
        assert breaker.is_open
        assert len(redis_commands) == 1, "the first cache call waits for its 250 ms timeout and opens the breaker"

        listed = api.get("/api/mocs")
        assert listed.status_code == 200 and listed["X-Cache"] == "MISS"
        assert [m["title"] for m in listed.json()["data"]] == ["Old title"]
        renamed = api.patch(moc_url, {"title": "New title"}, format="json")
        assert renamed.status_code == 200 and renamed.json()["data"]["title"] == "New title"
        created = api.post("/api/mocs", {**NEW_MOC, "title": "Second"}, format="json")
        assert created.status_code == 201, created.content
        assert read(api, moc_url) == ("MISS", "New title")
        assert api.get("/api/mocs").json()["total"] == 2

        assert len(redis_commands) == 1, "while the breaker is open no call reaches Redis"
        assert breaker.failures == 1
        assert breaker.skipped >= 5
    assert "rate limit cache unavailable; request allowed" in caplog.messages


def test_a_write_during_the_pause_is_what_its_owner_reads_after_the_resume(owner, api, moc_url, services, clock):
    read(api, moc_url)
    assert read(api, moc_url) == ("HIT", "Old title")
    with services.redis.paused():
        assert api.patch(moc_url, {"title": "New title"}, format="json").status_code == 200
        assert debts() == [(owner, "mocs")], "the lost bump is owed in PostgreSQL"
        assert read(api, moc_url) == ("MISS", "New title")

    clock.advance(redis_breaker.OPEN_SECONDS)
    assert read(api, moc_url) == ("MISS", "New title"), "the debt is applied before the cache is read"
    assert debts() == []
    assert read(api, moc_url) == ("HIT", "New title")


def test_a_user_with_a_debt_reads_past_the_cache_until_it_is_applied(owner, api, moc_id, moc_url, services, clock):
    read(api, moc_url)
    families = ("mocs", "gallery")
    stale_key = response_key("mocs:detail", owner, get_versions(owner, *families), families=families, parts=[moc_id])
    assert entry_result(cache_get(stale_key, owner=owner)).data["title"] == "Old title"
    with services.redis.paused():
        assert api.patch(moc_url, {"title": "New title"}, format="json").status_code == 200

    clock.advance(4.5)  # the debt check runs, but the breaker is still open: the debt waits
    assert read(api, moc_url) == ("MISS", "New title")
    assert debts() == [(owner, "mocs")]
    clock.advance(0.6)  # the breaker lets calls through again, the next debt check is not due yet
    assert not breaker.is_open
    assert read(api, moc_url) == ("MISS", "New title")
    assert entry_result(cache_get(stale_key, owner=owner)).data["title"] == "Old title", (
        "the stale entry under the old key was not replaced"
    )
    assert debts() == [(owner, "mocs")]

    clock.advance(1.0)
    assert read(api, moc_url) == ("MISS", "New title")
    assert debts() == []
    assert read(api, moc_url) == ("HIT", "New title")


def test_a_debt_recorded_by_another_process_is_applied_at_the_next_check(owner, api, moc_id, moc_url, clock):
    read(api, moc_url)
    assert read(api, moc_url) == ("HIT", "Old title")
    # Another process committed this rename and could not bump: all it left is the debt.
    Moc.objects.filter(pk=moc_id).update(title="Renamed elsewhere")
    CacheDebt.objects.create(user_id=owner, family="mocs")
    before = get_versions(owner, "mocs")["mocs"]

    clock.advance(1.0)
    assert read(api, moc_url) == ("MISS", "Renamed elsewhere")
    assert debts() == []
    assert get_versions(owner, "mocs")["mocs"] == before + 1


def test_a_restarted_empty_redis_serves_no_stale_read(owner, api, moc_url, services, clock):
    read(api, moc_url)
    assert read(api, moc_url) == ("HIT", "Old title")
    old_version = get_versions(owner, "mocs")["mocs"]
    with services.redis.stopped():
        assert api.patch(moc_url, {"title": "New title"}, format="json").status_code == 200
        assert read(api, moc_url) == ("MISS", "New title")
        assert debts() == [(owner, "mocs")]

    clock.advance(redis_breaker.OPEN_SECONDS)
    assert read(api, moc_url) == ("MISS", "New title")
    assert debts() == []
    # The counter was lost with everything else; it restarts from the current time in ms, above the old one.
    assert get_versions(owner, "mocs")["mocs"] > old_version
    assert read(api, moc_url) == ("HIT", "New title")


def test_health_reports_the_real_state_of_redis_whatever_the_breaker(client, services, clock):
    with services.redis.paused():
        cache.get("any")  # the request path opens the breaker
        assert breaker.is_open
        component = client.get("/health").json()["data"]["components"]["cache"]
        assert component["status"] == "down" and component["error"] == "TimeoutError"

    health.reset_memo()
    assert breaker.is_open, "Redis answers again, but the request path still skips it"
    component = client.get("/health").json()["data"]["components"]["cache"]
    assert component["status"] == "up", "health is not short-circuited by the breaker"


def test_a_link_written_during_the_pause_is_in_the_detail_after_the_resume(owner, api, moc_url, services, clock):
    """M14 and M16 (SPEC §4.2) bump the mocs family like every MOC write: a bump lost to the outage is owed."""
    image = GalleryImageFactory(user_id=owner)

    def linked_images() -> tuple[str, list[str]]:
        response = api.get(moc_url)
        assert response.status_code == 200, response.content
        refs = response.json()["data"]["images"]
        return response["X-Cache"], [ref["galleryImageId"] for ref in refs if ref["source"] == "gallery"]

    linked_images()
    assert linked_images() == ("HIT", [])
    with services.redis.paused():
        response = api.post(f"{moc_url}/gallery-images", {"galleryImageId": str(image.pk)}, format="json")
        assert response.status_code == 201, response.content
        assert debts() == [(owner, "mocs")]
        assert linked_images() == ("MISS", [str(image.pk)])

    clock.advance(redis_breaker.OPEN_SECONDS)
    assert linked_images() == ("MISS", [str(image.pk)])
    assert debts() == []
    assert linked_images() == ("HIT", [str(image.pk)])
    with services.redis.paused():
        assert api.delete(f"{moc_url}/gallery-images/{image.pk}").status_code == 200
    clock.advance(redis_breaker.OPEN_SECONDS)
    assert linked_images() == ("MISS", [])


@pytest.mark.parametrize("route", ["album list", "album detail", "feed"])
def test_an_album_renamed_during_the_pause_is_what_the_album_routes_show_after_the_resume(
    owner, api, services, clock, route
):
    """G9, G11 and G14 are cached in the gallery family (SPEC §6.1): G12's bump lost to the outage is owed."""
    created = api.post("/api/albums", {"title": "Old album"}, format="json")
    assert created.status_code == 201, created.content
    album_url = f"/api/albums/{created.json()['data']['id']}"
    url = {"album list": "/api/albums", "album detail": album_url, "feed": "/api/gallery"}[route]

    def shown() -> tuple[str, str]:
        response = api.get(url)
        assert response.status_code == 200, response.content
        data = response.json()["data"]
        album = {"album list": lambda: data[0], "album detail": lambda: data, "feed": lambda: data["items"][0]}[route]()
        return response["X-Cache"], album["title"]

    shown()
    assert shown() == ("HIT", "Old album")
    with services.redis.paused():
        assert api.patch(album_url, {"title": "New album"}, format="json").status_code == 200
        assert debts() == [(owner, "gallery")]
        assert shown() == ("MISS", "New album")

    clock.advance(redis_breaker.OPEN_SECONDS)
    assert shown() == ("MISS", "New album")
    assert debts() == []
    assert shown() == ("HIT", "New album")


def test_an_image_written_during_the_pause_is_what_the_image_routes_show_after_the_resume(
    owner, api, upload_image_for_redis, services, clock
):
    """G1, G5 and G6 bump the gallery family (SPEC §6.1): a bump lost to the outage is owed, and G2/G4 read past
    the cache until it is applied."""
    image_id = upload_image_for_redis(api)
    url = f"/api/images/{image_id}"

    def shown() -> tuple[str, str, str, int]:
        detail, listed = api.get(url), api.get("/api/images")
        assert detail.status_code == listed.status_code == 200, (detail.content, listed.content)
        return detail["X-Cache"], detail.json()["data"]["title"], listed["X-Cache"], listed.json()["total"]

    shown()
    assert shown() == ("HIT", "Old image", "HIT", 1)
    with services.redis.paused():
        assert api.patch(url, {"title": "New image"}, format="json").status_code == 200
        assert upload_image_for_redis(api)
        assert set(debts()) == {(owner, "gallery")}, "each lost bump is owed in PostgreSQL"
        assert shown() == ("MISS", "New image", "MISS", 2)

    clock.advance(redis_breaker.OPEN_SECONDS)
    assert shown() == ("MISS", "New image", "MISS", 2)
    assert debts() == []
    assert shown() == ("HIT", "New image", "HIT", 2)
    with services.redis.paused():
        assert api.delete(url).status_code == 200
    clock.advance(redis_breaker.OPEN_SECONDS)
    assert_error(api.get(url), 404, "NOT_FOUND", "Image not found")
    assert api.get("/api/images").json()["total"] == 1


@pytest.fixture
def upload_image_for_redis():
    def upload(api) -> str:
        image = SimpleUploadedFile("old.jpg", photo_bytes("JPEG", (64, 48)), content_type="image/jpeg")
        response = api.post("/api/images", {"image": image, "title": "Old image"}, format="multipart")
        assert response.status_code == 201, response.content
        return response.json()["data"]["id"]

    return upload
