"""Gallery image search (SPEC §6.2, §4.3 G2/G3): the `gallery` index with its strict mapping on the OpenSearch
emulator, the PostgreSQL fallback with the same rows and shape, the route filters on both, indexing after every
write, unindexing on delete, and `manage.py reindex` covering the index."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from gallery.models import GalleryImage
from gallery.search import GALLERY_INDEX, search_images
from lego_api.core import search as core_search
from tests.factories import GalleryAlbumFactory, GalleryImageFactory
from tests.gallery.conftest import indexed
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalogue(owner, other_user):
    """The owner's images (one album, one flagged), plus a stranger's image that matches every query below."""
    album = GalleryAlbumFactory(user_id=owner)
    rows = {
        "gate": GalleryImageFactory(user_id=owner, title="Castle Gate", description="A gatehouse", tags=["castle"]),
        "tower": GalleryImageFactory(
            user_id=owner, album=album, title="Castle Tower", description="Tall", tags=["castle", "tower"]
        ),
        "tavern": GalleryImageFactory(
            user_id=owner, title="Tavern", description="Next to the castle", tags=["town"], flagged=True
        ),
        "rocket": GalleryImageFactory(user_id=owner, title="Rocket", description="Moon base", tags=["space"]),
        "stranger": GalleryImageFactory(user_id=other_user, title="Castle Gate", tags=["castle"]),
    }
    indexed(*rows.values())
    return {"album": album, **rows}


def titles(result) -> list[str]:
    return [image.title for image in result.rows]


def test_index_has_the_spec_fields_with_a_strict_mapping():
    core_search.ensure_index("gallery")
    name = core_search.index_name("gallery")
    mapping = core_search.get_client().indices.get_mapping(index=name)[name]["mappings"]
    assert mapping["dynamic"] == "strict"
    properties = mapping["properties"]
    assert {field: properties[field]["type"] for field in properties} == {
        "id": "keyword",
        "userId": "keyword",
        "albumId": "keyword",
        "title": "text",
        "description": "text",
        "tags": "text",
        "flagged": "boolean",
        "createdAt": "date",
        "updatedAt": "date",
    }
    assert properties["title"]["fields"]["keyword"]["type"] == properties["tags"]["fields"]["keyword"]["type"]
    assert properties["tags"]["fields"]["keyword"]["type"] == "keyword"


def test_an_uploaded_image_is_indexed_with_its_fields(api, owner, upload_image, album):
    data = upload_image(api, title="Harbour", tags='["Coast"]', albumId=str(album.pk)).json()["data"]

    source = core_search.get_client().get(index=core_search.index_name("gallery"), id=data["id"])["_source"]

    assert {key: source[key] for key in ("id", "userId", "albumId", "title", "tags", "flagged")} == {
        "id": data["id"],
        "userId": owner,
        "albumId": str(album.pk),
        "title": "Harbour",
        "tags": ["coast"],
        "flagged": False,
    }
    assert set(source) == set(GALLERY_INDEX.mappings["properties"])


def test_engine_search_scopes_to_the_owner_and_applies_every_filter(catalogue, owner):
    result = search_images(user_id=owner, q="castle")

    assert result.backend == "opensearch"
    assert set(titles(result)) == {"Castle Gate", "Castle Tower", "Tavern"}
    assert all(image.user_id == owner for image in result.rows)
    assert titles(search_images(user_id=owner, q="castle", album_id=catalogue["album"].pk)) == ["Castle Tower"]
    assert titles(search_images(user_id=owner, q="castle", tag="TOWER")) == ["Castle Tower"]
    assert titles(search_images(user_id=owner, q="castle", flagged=True)) == ["Tavern"]
    assert set(titles(search_images(user_id=owner, q="castle", flagged=False))) == {"Castle Gate", "Castle Tower"}


@override_settings(OPENSEARCH_URL=None)
def test_database_fallback_gives_the_same_rows_and_filters(catalogue, owner):
    result = search_images(user_id=owner, q="castle")

    assert result.backend == "postgres"
    assert set(titles(result)) == {"Castle Gate", "Castle Tower", "Tavern"}
    assert titles(result)[-1] == "Tavern"  # a description match ranks after title matches
    assert titles(search_images(user_id=owner, q="castle", album_id=catalogue["album"].pk)) == ["Castle Tower"]
    assert titles(search_images(user_id=owner, q="castle", tag="tower")) == ["Castle Tower"]
    assert titles(search_images(user_id=owner, q="castle", flagged=True)) == ["Tavern"]
    assert titles(search_images(user_id=owner, q="Rockett")) == ["Rocket"]  # trigram similarity on the title


def test_search_marked_down_answers_from_the_database(api, catalogue):
    cache.set(core_search.SEARCH_DOWN_KEY, 1, 30)

    response = api.get("/api/images", {"search": "rocket"})

    assert response["X-Search-Backend"] == "postgres"
    assert [item["title"] for item in response.json()["data"]] == ["Rocket"]


def test_equal_relevance_orders_by_last_updated_then_id(owner):
    older, newer = GalleryImageFactory(user_id=owner, title="Tower"), GalleryImageFactory(user_id=owner, title="Tower")
    GalleryImage.objects.filter(pk=older.pk).update(last_updated_at=newer.last_updated_at.replace(year=2020))
    indexed(older, newer)

    assert [image.pk for image in search_images(user_id=owner, q="tower").rows] == [newer.pk, older.pk]
    with override_settings(OPENSEARCH_URL=None):
        assert [image.pk for image in search_images(user_id=owner, q="tower").rows] == [newer.pk, older.pk]


def test_a_deleted_image_is_unindexed(api, owner, upload_image):
    image_id = upload_image(api, title="Lighthouse").json()["data"]["id"]
    assert api.delete(f"/api/images/{image_id}").status_code == 200

    assert not core_search.get_client().exists(index=core_search.index_name("gallery"), id=image_id)
    assert search_images(user_id=owner, q="lighthouse").total == 0


# --- G3 `GET /api/images/search` ------------------------------------------------------------------------------------


def test_search_route_pages_relevance_results(api, catalogue):
    response = api.get("/api/images/search", {"search": "castle", "limit": 2})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (3, 1, 2, 2)
    assert len(body["data"]) == 2
    assert response["X-Search-Backend"] == "opensearch"
    assert (response["X-Cache"], api.get("/api/images/search", {"search": "castle", "limit": 2})["X-Cache"]) == (
        "MISS",
        "HIT",
    )


def test_search_route_takes_q_as_an_alias_and_the_list_filters(api, catalogue):
    response = api.get("/api/images/search", {"q": "castle", "flagged": "true"})

    assert response.status_code == 200, response.content
    assert [item["title"] for item in response.json()["data"]] == ["Tavern"]


@pytest.mark.parametrize("query", [{}, {"search": "   "}, {"q": ""}])
def test_search_route_needs_a_search_text(api, query):
    response = api.get("/api/images/search", query)

    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", {"search": ["This field is required."]})


@pytest.mark.parametrize(
    ("query", "field"),
    [({"search": "s" * 201}, "search"), ({"q": "x", "albumId": "1"}, "albumId"), ({"q": "x", "page": "a"}, "page")],
)
def test_search_route_query_rules(api, query, field):
    response = api.get("/api/images/search", query)

    assert field in assert_error(response, 400, "VALIDATION_ERROR")["details"]["fields"]


def test_search_route_never_shows_another_users_image(other_api, catalogue):
    response = other_api.get("/api/images/search", {"search": "gate"})

    assert [item["id"] for item in response.json()["data"]] == [str(catalogue["stranger"].pk)]


# --- reindex ----------------------------------------------------------------------------------------------------------


def test_reindex_covers_the_gallery_index(owner):
    image = GalleryImageFactory(user_id=owner, title=f"Reindexed {uuid.uuid4().hex[:6]}")
    out = StringIO()

    call_command("reindex", "--index", "gallery", "--recreate", stdout=out)

    assert "documents indexed" in out.getvalue()
    assert titles(search_images(user_id=owner, q="reindexed")) == [image.title]
    everything = StringIO()
    call_command("reindex", stdout=everything)
    assert core_search.index_name("gallery") in everything.getvalue()
