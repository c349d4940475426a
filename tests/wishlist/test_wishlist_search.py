"""W3 `GET /api/wishlist/search` and W1 with `search` (SPEC §4.4, §6.2): the `wishlist` index (strict mapping, the
documents every write indexes), answers from OpenSearch (the emulator) and from the PostgreSQL fallback with the same
shape, the `category` filter, the `q` alias, owner scoping, and the query rules."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from lego_api.core import search as core_search
from tests.helpers import assert_error
from wishlist.search import WISHLIST_INDEX

pytestmark = pytest.mark.django_db

SEARCH = "/api/wishlist/search"
BACKENDS = ["opensearch", "postgres"]


@pytest.fixture
def backend(request, settings):
    """Each backend a search can be answered by: the engine, or PostgreSQL (the engine not configured)."""
    if request.param == "postgres":
        settings.OPENSEARCH_URL = None
    return request.param


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the after-commit effects (search indexing, cache bumps) of the writes in the block right away."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def wishlist(api, other_api, committed) -> dict[str, str]:
    """The owner's items (title -> id), created through W2 and indexed; a stranger's item matches every query."""
    items = [
        ("Coffee Truck", "A food truck with an espresso machine", "Vehicles"),
        ("Space Truck", "Hauls cargo between moon bases", "Space"),
        ("Harbour Lighthouse", "Two towers guarding the harbour", "Modular"),
        ("Fire Station", "With a ladder truck", "City"),
        ("Millennium Falcon", "Corellian freighter", "Space"),
    ]
    created = {}
    with committed():
        for title, description, category in items:
            response = api.post(
                "/api/wishlist", {"title": title, "description": description, "category": category}, format="json"
            )
            created[title] = response.json()["data"]["id"]
        other_api.post("/api/wishlist", {"title": "Coffee Truck", "category": "Vehicles"}, format="json")
    return created


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(item["title"] for item in response.json()["data"])


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_search_finds_title_description_and_category_matches(api, wishlist, backend):
    response = api.get(SEARCH, {"search": "truck"})
    assert response["X-Search-Backend"] == backend
    assert titles(response) == ["Coffee Truck", "Fire Station", "Space Truck"]
    body = response.json()
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (3, 1, 20, 1)
    assert titles(api.get(SEARCH, {"search": "space"})) == ["Millennium Falcon", "Space Truck"]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_title_match_ranks_first(api, wishlist, backend):
    assert api.get(SEARCH, {"search": "lighthouse"}).json()["data"][0]["title"] == "Harbour Lighthouse"
    assert api.get(SEARCH, {"search": "coffee truck"}).json()["data"][0]["title"] == "Coffee Truck"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_typo_is_still_found(api, wishlist, backend):
    assert "Millennium Falcon" in titles(api.get(SEARCH, {"search": "Milenium Falcn"}))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_category_filter_is_exact(api, wishlist, backend):
    assert titles(api.get(SEARCH, {"search": "truck", "category": "Space"})) == ["Space Truck"]
    assert titles(api.get(SEARCH, {"search": "truck", "category": "space"})) == []


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_search_never_returns_another_users_items(api, owner, wishlist, backend):
    data = api.get(SEARCH, {"search": "coffee"}).json()["data"]
    assert [item["userId"] for item in data] == [owner]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_search_pages_with_the_total_of_every_match(api, wishlist, backend):
    first = api.get(SEARCH, {"search": "truck", "limit": 2}).json()
    second = api.get(SEARCH, {"search": "truck", "limit": 2, "page": 2}).json()
    assert (first["total"], second["total"], first["totalPages"]) == (3, 3, 2)
    assert len({item["id"] for item in first["data"] + second["data"]}) == 3


def test_q_is_an_alias_of_search(api, wishlist):
    assert titles(api.get(SEARCH, {"q": "lighthouse"})) == ["Harbour Lighthouse"]


def test_w1_with_search_is_w3_under_the_same_cache_entry(api, wishlist):
    listed = api.get("/api/wishlist", {"search": "truck", "category": "Vehicles"})
    assert listed["X-Cache"] == "MISS"
    assert listed["X-Search-Backend"] == "opensearch"
    assert titles(listed) == ["Coffee Truck"]
    searched = api.get(SEARCH, {"search": "truck", "category": "Vehicles"})
    assert searched["X-Cache"] == "HIT"
    assert searched.json()["data"] == listed.json()["data"]


def test_the_engine_marked_down_answers_from_postgres(api, wishlist):
    cache.set(core_search.SEARCH_DOWN_KEY, 1, 30)
    response = api.get(SEARCH, {"search": "truck"})
    assert response["X-Search-Backend"] == "postgres"
    assert titles(response) == ["Coffee Truck", "Fire Station", "Space Truck"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "search", "This field is required."),
        ({"search": "   "}, "search", "This field is required."),
        ({"category": "Space"}, "search", "This field is required."),
        ({"search": "s" * 201}, "search", "Ensure this value has at most 200 characters."),
        ({"q": "q" * 201}, "q", "Ensure this value has at most 200 characters."),
        ({"search": "truck", "category": "c" * 101}, "category", "Ensure this value has at most 100 characters."),
        ({"search": "truck", "limit": 0}, "limit", "Must be at least 1."),
    ],
)
def test_bad_queries_are_400_on_the_parameter(api, params, field, message):
    assert_error(api.get(SEARCH, params), 400, "VALIDATION_ERROR", "Validation failed", fields={field: [message]})


# --- Indexing ----------------------------------------------------------------------------------------------------------


def document(item_id: str) -> dict | None:
    found = core_search.get_client().get(index=core_search.index_name("wishlist"), id=item_id, ignore=[404])
    return found.get("_source") if found.get("found") else None


def test_every_write_keeps_the_document_in_step(api, owner, wishlist, committed):
    falcon = wishlist["Millennium Falcon"]
    assert document(falcon) == {
        "id": falcon,
        "userId": owner,
        "title": "Millennium Falcon",
        "description": "Corellian freighter",
        "category": "Space",
        "sortOrder": 4,
        "createdAt": document(falcon)["createdAt"],
        "updatedAt": document(falcon)["updatedAt"],
    }
    with committed():
        api.patch(f"/api/wishlist/{falcon}", {"title": "Razor Crest"}, format="json")
        api.post("/api/wishlist/reorder", {"items": [{"id": falcon, "sortOrder": 40}]}, format="json")
    assert (document(falcon)["title"], document(falcon)["sortOrder"]) == ("Razor Crest", 40)
    assert titles(api.get(SEARCH, {"search": "razor"})) == ["Razor Crest"]
    with committed():
        api.delete(f"/api/wishlist/{falcon}")
    assert document(falcon) is None


def test_the_index_has_the_strict_spec_mapping():
    mappings = core_search.index_body(WISHLIST_INDEX)["mappings"]
    assert mappings["dynamic"] == "strict"
    keyword, text_and_keyword = (
        {"type": "keyword"},
        {"type": "text", "analyzer": "standard", "fields": {"keyword": {"type": "keyword"}}},
    )
    assert mappings["properties"] == {
        "id": keyword,
        "userId": keyword,
        "title": text_and_keyword,
        "description": {"type": "text", "analyzer": "standard"},
        "category": text_and_keyword,
        "sortOrder": {"type": "integer"},
        "createdAt": {"type": "date"},
        "updatedAt": {"type": "date"},
    }


def test_reindex_rebuilds_the_wishlist_index(api, wishlist):
    call_command("reindex", "--index", "wishlist", "--recreate", stdout=None)
    assert titles(api.get(SEARCH, {"search": "lighthouse"})) == ["Harbour Lighthouse"]
    assert document(wishlist["Harbour Lighthouse"])["category"] == "Modular"


@override_settings(OPENSEARCH_URL=None)
def test_the_fallback_matches_a_stem_of_the_description(api, wishlist):
    assert titles(api.get(SEARCH, {"search": "guarded"})) == ["Harbour Lighthouse"]
