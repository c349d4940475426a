"""The wishlist's response cache (SPEC §6.1) against the real Redis: W1, W1 with `search`, W3 and W5 are cached under
`wishlist:list`, `wishlist:search` and `wishlist:item` with their TTLs; every write (W2, W4, W6, W7, W8) bumps the
owner's wishlist family, so the next read is a miss with the new data; another user's writes and other families'
bumps leave the owner's entries alone; errors are never cached."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from lego_api.core.cache import bump, get_versions, response_key
from tests.mocs.test_cache import assert_all
from tests.wishlist.uploads import upload_image

# Writes must commit for their after-commit bumps to run, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

DEFAULT_QUERY = {"page": 1, "limit": 20, "category": None, "search": None}


@pytest.fixture
def item_id(create_item) -> str:
    return create_item(title="Coffee Truck", category="Vehicles")["id"]


def cached_urls(item_id: str) -> list[str]:
    return [
        "/api/wishlist",
        "/api/wishlist?category=Vehicles",
        "/api/wishlist?search=truck",
        "/api/wishlist/search?q=coffee",
        f"/api/wishlist/{item_id}",
    ]


def test_a_second_get_is_a_hit_with_the_same_body(api, item_id):
    for url in cached_urls(item_id):
        first, second = api.get(url), api.get(url)
        assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT"), url
        a, b = first.json(), second.json()
        a.pop("timestamp"), b.pop("timestamp")
        assert a == b, url


def test_the_keys_and_ttls_are_the_spec_ones(api, owner, item_id):
    for url in cached_urls(item_id):
        api.get(url)
    versions = get_versions(owner, "wishlist")
    keys = {
        "wishlist:list": response_key("wishlist:list", owner, versions, families=("wishlist",), params=DEFAULT_QUERY),
        "wishlist:search": response_key(
            "wishlist:search", owner, versions, families=("wishlist",), params={**DEFAULT_QUERY, "search": "truck"}
        ),
        "wishlist:item": response_key("wishlist:item", owner, versions, families=("wishlist",), parts=(item_id,)),
    }
    ttls = {name: cache.ttl(key) for name, key in keys.items()}
    assert 290 <= ttls["wishlist:list"] <= 300, ttls
    assert 110 <= ttls["wishlist:search"] <= 120, ttls
    assert 290 <= ttls["wishlist:item"] <= 300, ttls


WRITES = {
    "W2 create": lambda api, item_id: api.post("/api/wishlist", {"title": "Fire Truck"}, format="json"),
    "W4 reorder": lambda api, item_id: api.put(
        "/api/wishlist/reorder", {"items": [{"id": item_id, "sortOrder": 9}]}, format="json"
    ),
    "W6 update": lambda api, item_id: api.patch(f"/api/wishlist/{item_id}", {"title": "Tea Truck"}, format="json"),
    "W8 image": lambda api, item_id: upload_image(api, item_id),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_invalidates_every_cached_read(api, item_id, write):
    assert_all(api, cached_urls(item_id), "MISS")
    assert_all(api, cached_urls(item_id), "HIT")
    before = api.get(f"/api/wishlist/{item_id}").json()["data"]
    response = WRITES[write](api, item_id)
    assert response.status_code in (200, 201), response.content
    assert_all(api, cached_urls(item_id), "MISS")
    if write == "W2 create":
        assert api.get("/api/wishlist").json()["total"] == 2
    else:
        assert api.get(f"/api/wishlist/{item_id}").json()["data"] != before


def test_a_delete_invalidates(api, item_id, create_item):
    create_item(title="Kept")
    assert_all(api, cached_urls(item_id), "MISS")
    assert api.delete(f"/api/wishlist/{item_id}").status_code == 200
    assert [item["title"] for item in api.get("/api/wishlist").json()["data"]] == ["Kept"]
    assert api.get("/api/wishlist/search", {"q": "coffee"}).json()["total"] == 0
    assert api.get(f"/api/wishlist/{item_id}").status_code == 404


def test_another_users_writes_and_other_families_leave_the_entries(api, other_api, owner, item_id):
    assert_all(api, cached_urls(item_id), "MISS")
    assert other_api.post("/api/wishlist", {"title": "Theirs"}, format="json").status_code == 201
    bump("mocs", owner)
    bump("gallery", owner)
    assert_all(api, cached_urls(item_id), "HIT")


def test_errors_are_never_cached(api, other_api, item_id):
    assert other_api.get(f"/api/wishlist/{item_id}").status_code == 403
    assert other_api.get(f"/api/wishlist/{item_id}").status_code == 403
    assert api.get("/api/wishlist/search").status_code == 400
    response = api.get(f"/api/wishlist/{item_id}")
    assert (response.status_code, response["X-Cache"]) == (200, "MISS")
