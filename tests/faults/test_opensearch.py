"""OpenSearch (the osmem emulator) stopped and paused: M1 `search` and M3 answer from PostgreSQL and set
`search:down`, writes still succeed, health reports `search` down, and the same process goes back to the engine once
`search:down` has expired (SPEC §6.2 "Fallback", §7.3 "An indexing failure never fails the request", §7.1)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from lego_api.core import search as core_search
from mocs.models import Moc
from tests.factories import GalleryAlbumFactory, GalleryImageFactory
from tests.faults.probes import OUTAGES, assert_degraded_then_healthy, health_during_and_after, outage
from tests.gallery.conftest import photo_bytes
from tests.samples import moc_fields

pytestmark = pytest.mark.django_db(transaction=True)

TRUCKS = ["Coffee Truck", "Fire Truck", "Space Truck"]


def search_down_expires() -> None:
    """What 30 s do to the `search:down` key, without waiting for them."""
    cache.delete(core_search.SEARCH_DOWN_KEY)


def titles(response) -> list[str]:
    return sorted(moc["title"] for moc in response.json()["data"])


@pytest.fixture
def catalogue(api) -> dict[str, str]:
    """Three trucks and a station, created through M2 while the engine is up (so they are indexed): title -> id.

    Searched for the first time during the outage: a search answered before would be served from the response cache.
    """
    created = {}
    for title in [*TRUCKS, "Space Station"]:
        response = api.post("/api/mocs", moc_fields(title), format="json")
        assert response.status_code == 201, response.content
        created[title] = response.json()["data"]["id"]
    return created


def test_the_search_client_fails_fast_and_never_retries():
    """One engine call costs at most its 2 s timeout (SPEC §6.2): no retry multiplies it."""
    transport = core_search.get_client().transport
    assert transport.max_retries == 0
    assert transport.retry_on_timeout is False
    assert [connection.timeout for connection in transport.connection_pool.connections] == [core_search.SEARCH_TIMEOUT]


@pytest.mark.parametrize("kind", OUTAGES)
def test_searches_answer_from_postgres_and_mark_search_down(api, catalogue, services, kind):
    with outage(services.opensearch, kind):
        listed = api.get("/api/mocs", {"search": "truck"})
        marked_down = bool(cache.get(core_search.SEARCH_DOWN_KEY))
        aliased = api.get("/api/mocs/search", {"q": "truck", "size": 10})

    assert marked_down
    for response in (listed, aliased):
        assert response.status_code == 200, response.content
        assert response["X-Search-Backend"] == "postgres"
        assert titles(response) == TRUCKS
        assert response.json()["total"] == 3


@pytest.mark.parametrize("kind", OUTAGES)
def test_writes_succeed_while_the_engine_is_out(api, catalogue, services, kind):
    with outage(services.opensearch, kind):
        created = api.post("/api/mocs", moc_fields("Offline Truck"), format="json")
        updated = api.patch(f"/api/mocs/{catalogue['Fire Truck']}", {"title": "Fire Engine"}, format="json")
        deleted = api.delete(f"/api/mocs/{catalogue['Space Station']}")

    assert (created.status_code, updated.status_code, deleted.status_code) == (201, 200, 200)
    assert Moc.objects.filter(pk=created.json()["data"]["id"], title="Offline Truck").exists()
    assert Moc.objects.filter(pk=catalogue["Fire Truck"], title="Fire Engine").exists()
    assert not Moc.objects.filter(pk=catalogue["Space Station"]).exists()


@pytest.mark.parametrize("kind", OUTAGES)
def test_the_same_process_goes_back_to_the_engine(api, owner, catalogue, services, kind):
    with outage(services.opensearch, kind):
        during = api.get("/api/mocs", {"search": "truck"})
        written = api.post("/api/mocs", moc_fields("Offline Truck"), format="json")
    assert during["X-Search-Backend"] == "postgres"
    assert written.status_code == 201

    # While `search:down` holds, the engine is not tried even though it is back.
    assert api.get("/api/mocs", {"search": "space"})["X-Search-Backend"] == "postgres"
    search_down_expires()
    # What a write missed while the engine was out, `reindex` repairs (SPEC §7.3; the restarted emulator is empty).
    call_command("reindex", "--index", "mocs")
    after = api.get("/api/mocs", {"search": "offline"})
    assert after.status_code == 200
    assert after["X-Search-Backend"] == "opensearch"
    assert titles(after) == ["Offline Truck"]
    assert api.get("/api/mocs/search", {"q": "fire"})["X-Search-Backend"] == "opensearch"


@pytest.mark.parametrize("kind", OUTAGES)
def test_health_reports_search_down_then_up(client, services, kind):
    during, after = health_during_and_after(client, services.opensearch, kind)
    assert_degraded_then_healthy(during, after, "search")


@pytest.mark.parametrize("kind", OUTAGES)
def test_an_album_delete_succeeds_and_the_feed_searches_while_the_engine_is_out(api, owner, services, kind):
    """G13's re-index of the former images fails without failing the request (`reindex` repairs it), and G14
    searches with the database rules, never the engine (SPEC §4.3, §6.2)."""
    album = GalleryAlbumFactory(user_id=owner, title="Harbour")
    images = [GalleryImageFactory(user_id=owner, album=album, title=f"Harbour boat {n}") for n in range(2)]
    GalleryImageFactory(user_id=owner, title="Castle gate")
    with outage(services.opensearch, kind):
        deleted = api.delete(f"/api/albums/{album.pk}")
        feed = api.get("/api/gallery", {"search": "harbour"})

    assert deleted.status_code == 200, deleted.content
    assert feed.status_code == 200, feed.content
    assert sorted(item["id"] for item in feed.json()["data"]["items"]) == sorted(str(image.pk) for image in images)
    search_down_expires()
    call_command("reindex", "--index", "gallery")
    client, index = core_search.get_client(), core_search.index_name("gallery")
    assert [client.get(index=index, id=str(image.pk))["_source"]["albumId"] for image in images] == [None, None]


@pytest.mark.parametrize("kind", OUTAGES)
def test_image_searches_answer_from_postgres_and_image_writes_succeed_while_the_engine_is_out(
    api, owner, services, kind
):
    """G2 with `search` and G3 fall back to the database; G1 (with its processing task), G5 and G6 index and unindex
    after commit, and a failure there never fails the request (SPEC §6.2, §7.3); `reindex` repairs the index."""
    images = {}
    for title in ("Red Dragon", "Dragon Cave", "Harbour"):
        image = GalleryImageFactory(user_id=owner, title=title, tags=[])
        images[title] = str(image.pk)
    call_command("reindex", "--index", "gallery")

    with outage(services.opensearch, kind):
        listed = api.get("/api/images", {"search": "dragon"})
        aliased = api.get("/api/images/search", {"q": "dragon", "limit": 10})
        uploaded = api.post(
            "/api/images",
            {"image": SimpleUploadedFile("lair.jpg", photo_bytes(), content_type="image/jpeg"), "title": "Dragon Lair"},
            format="multipart",
        )
        updated = api.patch(f"/api/images/{images['Harbour']}", {"title": "Dragon Harbour"}, format="json")
        deleted = api.delete(f"/api/images/{images['Red Dragon']}")

    for response in (listed, aliased):
        assert response.status_code == 200, response.content
        assert response["X-Search-Backend"] == "postgres"
        assert titles(response) == ["Dragon Cave", "Red Dragon"]
    assert (uploaded.status_code, updated.status_code, deleted.status_code) == (201, 200, 200)
    assert uploaded.json()["data"]["processingStatus"] == "ready"

    search_down_expires()
    call_command("reindex", "--index", "gallery")
    after = api.get("/api/images/search", {"q": "dragon"})
    assert after["X-Search-Backend"] == "opensearch"
    assert titles(after) == ["Dragon Cave", "Dragon Harbour", "Dragon Lair"]
