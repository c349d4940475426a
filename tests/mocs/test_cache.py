"""The MOC response cache (SPEC §6.1) against the real Redis: hits, `X-Cache`, fresh timestamps, invalidation by
every kind of write, owner checks, errors never cached, and service with Redis stopped."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.cache import cache

from lego_api.core.cache import ENTRY_FORMAT, CachedResult, Entry, bump, cache_set, get_versions, response_key
from mocs.models import Moc
from mocs.services.mocs import moc_touch
from tests.factories import MocFactory, MocPartsListFactory

# Writes must commit for their after-commit bumps to run, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NEW_MOC = {
    "type": "moc",
    "title": "Coffee Truck",
    "author": "Jane",
    "partsCount": 328,
    "theme": "City",
    "setNumber": "M-1",
}
CACHED_GETS = [
    "/api/mocs",
    "/api/mocs?search=truck",
    "/api/mocs/search?q=truck",
    "/api/mocs/search",
    "/api/mocs/parts-lists/summary",
    "/api/mocs/stats/by-category",
    "/api/mocs/stats/uploads-over-time",
]


@pytest.fixture
def moc(api) -> Moc:
    """`owner`'s MOC created through the API (not a factory row): committed, indexed and counted as a write."""
    response = api.post("/api/mocs", NEW_MOC, format="json")
    assert response.status_code == 201
    return Moc.objects.get(pk=response.json()["data"]["id"])


def routes(moc: Moc) -> list[str]:
    return [*CACHED_GETS, f"/api/mocs/{moc.pk}"]


def assert_all(api, urls: list[str], state: str) -> None:
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, (url, response.content)
        assert response["X-Cache"] == state, url


def test_second_get_is_a_hit_with_the_same_body_and_a_fresh_timestamp(api, moc):
    for url in routes(moc):
        first = api.get(url)
        second = api.get(url)
        assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT"), url
        a, b = first.json(), second.json()
        a.pop("timestamp"), b.pop("timestamp")
        assert a == b, url


def test_timestamp_is_not_stored(owner, api, moc):
    api.get("/api/mocs")
    key = response_key(
        "mocs:list",
        owner,
        get_versions(owner, "mocs"),
        families=("mocs",),
        params={"page": 1, "limit": 20, "tag": None, "type": None, "search": None},
    )
    stored = cache.get(key)
    assert stored is not None, "the list key is built from the canonical query"
    format_tag, stored_owner, head, headers = stored
    assert (format_tag, stored_owner, headers) == (ENTRY_FORMAT, owner, ())
    assert b"timestamp" not in head and head.endswith(b'"total":1,"page":1,"limit":20,"totalPages":1,')


def test_search_backend_header_is_kept_on_a_hit(api, moc):
    first = api.get("/api/mocs", {"search": "coffee"})
    second = api.get("/api/mocs", {"search": "coffee"})
    assert second["X-Cache"] == "HIT"
    assert second["X-Search-Backend"] == first["X-Search-Backend"]


def test_different_queries_are_different_entries(api, moc):
    assert api.get("/api/mocs", {"limit": 5})["X-Cache"] == "MISS"
    assert api.get("/api/mocs", {"limit": 6})["X-Cache"] == "MISS"
    assert api.get("/api/mocs", {"limit": "5"})["X-Cache"] == "HIT"
    # Defaults are filled in before hashing: `page=1` is the same query as no page.
    assert api.get("/api/mocs", {"limit": 5, "page": 1})["X-Cache"] == "HIT"
    assert api.get("/api/mocs", {"tag": "FOOD"})["X-Cache"] == "MISS"
    assert api.get("/api/mocs", {"tag": "food"})["X-Cache"] == "HIT"


def test_create_invalidates(api, moc):
    assert_all(api, routes(moc), "MISS")
    assert api.post("/api/mocs", {**NEW_MOC, "title": "Second"}, format="json").status_code == 201
    assert_all(api, routes(moc), "MISS")
    assert api.get("/api/mocs").json()["total"] == 2


def test_update_invalidates(api, moc):
    assert_all(api, routes(moc), "MISS")
    assert api.patch(f"/api/mocs/{moc.pk}", {"title": "Renamed"}, format="json").status_code == 200
    assert_all(api, routes(moc), "MISS")
    assert api.get(f"/api/mocs/{moc.pk}").json()["data"]["title"] == "Renamed"
    assert api.get("/api/mocs").json()["data"][0]["title"] == "Renamed"


def test_delete_invalidates(owner, api, moc):
    other = MocFactory(user_id=owner)
    assert_all(api, routes(moc), "MISS")
    assert api.delete(f"/api/mocs/{moc.pk}").status_code == 200
    assert_all(api, CACHED_GETS, "MISS")
    assert [m["id"] for m in api.get("/api/mocs").json()["data"]] == [str(other.pk)]
    assert api.get(f"/api/mocs/{moc.pk}").status_code == 404


def test_a_child_change_invalidates(api, moc):
    """Files and parts lists call `moc_touch` (or bump) after any change."""
    assert_all(api, routes(moc), "MISS")
    MocPartsListFactory(moc=moc, title="Added elsewhere")
    moc_touch(moc=moc)
    assert_all(api, routes(moc), "MISS")
    assert api.get("/api/mocs/parts-lists/summary").json()["data"]["statistics"]["totalPartsLists"] == 1


def test_a_file_upload_invalidates(api, moc):
    assert_all(api, routes(moc), "MISS")
    upload = io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    upload.name = "instructions.pdf"
    response = api.post(f"/api/mocs/{moc.pk}/files", {"file": upload, "fileType": "instruction"}, format="multipart")
    assert response.status_code == 201, response.content
    assert_all(api, routes(moc), "MISS")
    assert len(api.get(f"/api/mocs/{moc.pk}").json()["data"]["files"]) == 1


def test_a_parts_list_change_invalidates(api, moc):
    created = api.post(
        f"/api/mocs/{moc.pk}/parts-lists",
        {"title": "Bricks", "parts": [{"partId": "3001", "quantity": 4}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert_all(api, routes(moc), "MISS")
    plid = created.json()["data"]["id"]
    assert api.patch(f"/api/mocs/{moc.pk}/parts-lists/{plid}", {"built": True}, format="json").status_code == 200
    assert_all(api, routes(moc), "MISS")
    summary = api.get("/api/mocs/parts-lists/summary").json()["data"]
    assert summary["statistics"]["builtCount"] == 1


def test_a_gallery_bump_invalidates_the_detail_only(owner, api, moc):
    assert_all(api, routes(moc), "MISS")
    bump("gallery", owner)
    assert api.get(f"/api/mocs/{moc.pk}")["X-Cache"] == "MISS"  # MocDetail lists linked gallery images
    assert_all(api, CACHED_GETS, "HIT")


def test_another_users_write_does_not_invalidate(api, other_api, moc):
    assert_all(api, routes(moc), "MISS")
    assert other_api.post("/api/mocs", NEW_MOC, format="json").status_code == 201
    assert_all(api, routes(moc), "HIT")


def test_owner_mismatch_is_a_miss(owner, api, moc):
    params = {"page": 1, "limit": 20, "tag": None, "type": None, "search": None}
    key = response_key("mocs:list", owner, get_versions(owner, "mocs"), families=("mocs",), params=params)
    forged = Entry.of(CachedResult(data=[{"id": "forged"}], meta={"total": 1}))
    cache_set(key, owner="mallory", entry=forged, ttl=300)
    response = api.get("/api/mocs")
    assert response["X-Cache"] == "MISS"
    assert [m["id"] for m in response.json()["data"]] == [str(moc.pk)]
    assert api.get("/api/mocs")["X-Cache"] == "HIT"  # and the entry is now the owner's own


def test_errors_are_never_cached(owner, api, other_api, moc):
    missing = uuid.uuid4()
    for _ in range(2):
        response = api.get(f"/api/mocs/{missing}")
        assert response.status_code == 404 and "X-Cache" not in response
    MocFactory(id=missing, user_id=owner)  # appears without any bump: a cached 404 would still answer
    assert api.get(f"/api/mocs/{missing}").status_code == 200

    for _ in range(2):
        assert other_api.get(f"/api/mocs/{moc.pk}").status_code == 403
    for _ in range(2):
        response = api.get("/api/mocs", {"limit": 0})
        assert response.status_code == 400 and "X-Cache" not in response


def test_other_users_never_share_entries(api, other_api, moc):
    api.get("/api/mocs")
    response = other_api.get("/api/mocs")
    assert response["X-Cache"] == "MISS" and response.json()["data"] == []


def test_served_without_redis(api, moc, services):
    api.get("/api/mocs")
    services.redis.stop()
    try:
        response = api.get("/api/mocs")
        assert response.status_code == 200 and response["X-Cache"] == "MISS"
        assert api.post("/api/mocs", {**NEW_MOC, "title": "While down"}, format="json").status_code == 201
        assert api.get("/api/mocs").json()["total"] == 2
        assert api.get(f"/api/mocs/{moc.pk}").status_code == 200
        assert api.get("/api/mocs/stats/by-category").status_code == 200
    finally:
        services.redis.start()
    assert api.get("/api/mocs").json()["total"] == 2
