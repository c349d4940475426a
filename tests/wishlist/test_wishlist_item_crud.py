"""Wishlist items W1, W2, W5, W6, W7 (SPEC §4.4) through the API: the item field rules, the default sortOrder, the
list's order and filters, and per route the owner, another user (403), an anonymous caller (401), validation (400
with field details) and a missing item (404)."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import assert_error
from tests.wishlist.factories import WishlistItemFactory
from wishlist.models import WishlistItem

pytestmark = pytest.mark.django_db

ITEM_KEYS = {
    "id",
    "userId",
    "title",
    "description",
    "productLink",
    "imageUrl",
    "imageWidth",
    "imageHeight",
    "category",
    "sortOrder",
    "createdAt",
    "updatedAt",
}
FULL_ITEM = {
    "title": "  Millennium Falcon  ",
    "description": "The UCS one.",
    "productLink": "https://www.lego.com/en-us/product/75192",
    "imageUrl": "https://images.example.com/falcon.jpg",
    "category": "Star Wars",
    "sortOrder": 4,
}


def item_url(item_id) -> str:
    return f"/api/wishlist/{item_id}"


def listed_titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [entry["title"] for entry in response.json()["data"]]


# --- Every route -------------------------------------------------------------------------------------------------

ROUTES = [
    ("get", "/api/wishlist"),
    ("post", "/api/wishlist"),
    ("get", "/api/wishlist/search?search=falcon"),
    ("post", "/api/wishlist/reorder"),
    ("put", "/api/wishlist/reorder"),
    ("get", "/api/wishlist/{id}"),
    ("patch", "/api/wishlist/{id}"),
    ("put", "/api/wishlist/{id}"),
    ("delete", "/api/wishlist/{id}"),
    ("post", "/api/wishlist/{id}/image"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m.upper()} {p}" for m, p in ROUTES])
def test_anonymous_gets_401_on_every_route(anonymous, item, method, path):
    response = getattr(anonymous, method)(path.format(id=item.id), {}, format="json")
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")
    assert response["WWW-Authenticate"].startswith("Bearer")


DETAIL_ROUTES = [("get", ""), ("patch", ""), ("put", ""), ("delete", ""), ("post", "/image")]


@pytest.mark.parametrize(("method", "suffix"), DETAIL_ROUTES, ids=[f"{m.upper()} {s}" for m, s in DETAIL_ROUTES])
def test_other_user_gets_403_and_the_item_is_unchanged(other_api, item, method, suffix):
    response = getattr(other_api, method)(item_url(item.id) + suffix, {"title": "Mine now"}, format="json")
    assert_error(response, 403, "FORBIDDEN", "You do not own this wishlist item")
    assert WishlistItem.objects.get(pk=item.pk).title == item.title


@pytest.mark.parametrize(("method", "suffix"), DETAIL_ROUTES, ids=[f"{m.upper()} {s}" for m, s in DETAIL_ROUTES])
def test_missing_item_gets_404(api, method, suffix):
    response = getattr(api, method)(item_url(uuid.uuid4()) + suffix, {"title": "Ghost"}, format="json")
    assert_error(response, 404, "NOT_FOUND", "Wishlist item not found")


def test_a_malformed_id_is_an_unknown_route(api):
    assert_error(api.get("/api/wishlist/not-a-uuid"), 404, "NOT_FOUND", "Route not found")


def test_every_route_takes_a_trailing_slash_without_redirect(api, item):
    assert api.get("/api/wishlist/").status_code == 200
    assert api.get(f"/api/wishlist/{item.id}/").status_code == 200
    assert api.get("/api/wishlist/search/", {"search": "bakery"}).status_code == 200


def test_a_method_a_path_does_not_serve_is_405_with_allow(api, item):
    response = api.delete("/api/wishlist")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert api.get("/api/wishlist/reorder").status_code == 405


# --- W2 create ---------------------------------------------------------------------------------------------------


def test_owner_creates_an_item_with_every_field(api, owner):
    response = api.post("/api/wishlist", FULL_ITEM, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "Wishlist item created successfully"
    data = body["data"]
    assert set(data) == ITEM_KEYS
    assert data["userId"] == owner
    assert data["title"] == "Millennium Falcon"
    assert data["imageUrl"] == FULL_ITEM["imageUrl"]
    assert (data["imageWidth"], data["imageHeight"]) == (None, None)
    assert data["sortOrder"] == 4
    assert data["createdAt"] == data["updatedAt"]
    assert WishlistItem.objects.get(pk=data["id"]).user_id == owner


def test_default_sort_order_is_the_callers_maximum_plus_one(api, create_item, other_user):
    WishlistItemFactory(user_id=other_user, sort_order=500)  # another user's maximum does not count
    assert create_item(title="First")["sortOrder"] == 0
    assert create_item(title="Placed", sortOrder=10)["sortOrder"] == 10
    assert create_item(title="Next")["sortOrder"] == 11


def test_sort_order_accepts_numeric_strings(create_item):
    assert create_item(sortOrder="7")["sortOrder"] == 7
    assert create_item(sortOrder=" 0012 ")["sortOrder"] == 12


def test_optional_text_is_trimmed_and_empty_means_null(create_item):
    data = create_item(description="   ", category="", productLink=None, imageUrl="")
    assert (data["description"], data["category"], data["productLink"], data["imageUrl"]) == (None, None, None, None)


def test_read_only_and_unknown_keys_are_ignored(api, owner):
    sent = {"title": "Tower", "id": str(uuid.uuid4()), "userId": "someone-else", "imageWidth": 5, "colour": "red"}
    data = api.post("/api/wishlist", sent, format="json").json()["data"]
    assert data["id"] != sent["id"]
    assert data["userId"] == owner
    assert data["imageWidth"] is None


def test_create_validation_lists_every_field(api):
    response = api.post(
        "/api/wishlist",
        {
            "description": "x" * 1001,
            "productLink": "ftp://example.com/set",
            "imageUrl": "/relative/image.png",
            "category": "c" * 101,
            "sortOrder": 1_000_001,
        },
        format="json",
    )
    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert set(error["details"]["fields"]) == {
        "title",
        "description",
        "productLink",
        "imageUrl",
        "category",
        "sortOrder",
    }
    assert error["details"]["fields"]["title"] == ["This field is required."]
    assert error["details"]["fields"]["productLink"] == ["Must be an absolute http(s) URL."]


@pytest.mark.parametrize(
    ("title", "message"),
    [(None, "This field may not be null."), ("   ", "This field may not be blank."), ("t" * 256, None)],
    ids=["null", "blank", "too long"],
)
def test_title_is_required_and_not_nullable(api, title, message):
    error = assert_error(api.post("/api/wishlist", {"title": title}, format="json"), 400, "VALIDATION_ERROR")
    assert list(error["details"]["fields"]) == ["title"]
    if message:
        assert error["details"]["fields"]["title"] == [message]


@pytest.mark.parametrize("sort_order", [-1, "-1", 1.5, "1e3", True, "", None, 1_000_001])
def test_sort_order_must_be_a_whole_number_from_0_to_1000000(api, sort_order):
    response = api.post("/api/wishlist", {"title": "Tower", "sortOrder": sort_order}, format="json")
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]["fields"]) == ["sortOrder"]


def test_the_bounds_of_sort_order_are_accepted(create_item):
    assert create_item(sortOrder=0)["sortOrder"] == 0
    assert create_item(sortOrder=1_000_000)["sortOrder"] == 1_000_000


def test_a_url_of_2049_characters_is_refused(api):
    url = "https://example.com/" + "a" * 2029
    response = api.post("/api/wishlist", {"title": "Tower", "productLink": url}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")
    assert api.post("/api/wishlist", {"title": "Tower", "productLink": url[:-1]}, format="json").status_code == 201


def test_text_with_a_null_character_is_refused(api):
    response = api.post("/api/wishlist", {"title": "Tower\u0000"}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", fields={"title": ["Null characters are not allowed."]})


# --- W1 list -------------------------------------------------------------------------------------------------------


def test_list_is_ordered_by_sort_order_then_created_at(api, owner):
    WishlistItemFactory(user_id=owner, title="Second", sort_order=1)
    WishlistItemFactory(user_id=owner, title="Third", sort_order=1)  # created later, same sortOrder
    WishlistItemFactory(user_id=owner, title="Last", sort_order=10)
    WishlistItemFactory(user_id=owner, title="First", sort_order=0)
    assert listed_titles(api.get("/api/wishlist")) == ["First", "Second", "Third", "Last"]


def test_list_shows_only_the_callers_items(api, owner, other_user):
    WishlistItemFactory(user_id=owner, title="Mine")
    WishlistItemFactory(user_id=other_user, title="Theirs")
    response = api.get("/api/wishlist")
    assert listed_titles(response) == ["Mine"]
    assert response.json()["total"] == 1


def test_category_filter_is_exact(api, owner):
    WishlistItemFactory(user_id=owner, title="Bakery", category="Modular")
    WishlistItemFactory(user_id=owner, title="Falcon", category="Star Wars")
    WishlistItemFactory(user_id=owner, title="Lower case", category="modular")
    assert listed_titles(api.get("/api/wishlist", {"category": "Modular"})) == ["Bakery"]
    assert listed_titles(api.get("/api/wishlist", {"category": "Modul"})) == []


def test_list_pages_with_the_spec_meta(api, owner):
    for index in range(5):
        WishlistItemFactory(user_id=owner, title=f"Item {index}", sort_order=index)
    body = api.get("/api/wishlist", {"page": 2, "limit": 2}).json()
    assert [entry["title"] for entry in body["data"]] == ["Item 2", "Item 3"]
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (5, 2, 2, 3)
    past_the_end = api.get("/api/wishlist", {"page": 9, "limit": 2}).json()
    assert (past_the_end["data"], past_the_end["total"]) == ([], 5)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"limit": 101}, "limit"),
        ({"search": "s" * 201}, "search"),
        ({"category": "Star\x00Wars"}, "category"),
    ],
)
def test_list_refuses_bad_query_values(api, params, field):
    error = assert_error(api.get("/api/wishlist", params), 400, "VALIDATION_ERROR")
    assert list(error["details"]["fields"]) == [field]


# --- W5 detail ------------------------------------------------------------------------------------------------------


def test_owner_reads_an_item(api, item):
    response = api.get(item_url(item.id))
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert set(data) == ITEM_KEYS
    assert (data["id"], data["title"], data["sortOrder"]) == (str(item.id), item.title, item.sort_order)
    assert "message" not in response.json()


def test_an_upper_case_id_names_the_same_item(api, item):
    assert api.get(item_url(str(item.id).upper())).json()["data"]["id"] == str(item.id)


# --- W6 update -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_owner_updates_only_the_fields_sent(api, item, method):
    response = getattr(api, method)(item_url(item.id), {"category": "Ideas", "sortOrder": "3"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Wishlist item updated successfully"
    assert (body["data"]["category"], body["data"]["sortOrder"], body["data"]["title"]) == ("Ideas", 3, item.title)
    assert body["data"]["updatedAt"] > body["data"]["createdAt"]
    stored = WishlistItem.objects.get(pk=item.pk)
    assert (stored.category, stored.sort_order, stored.description) == ("Ideas", 3, item.description)


def test_null_clears_a_nullable_field(api, item):
    data = api.patch(item_url(item.id), {"description": None, "productLink": None}, format="json").json()["data"]
    assert (data["description"], data["productLink"]) == (None, None)


def test_an_external_image_url_nulls_the_stored_size(api, owner):
    item = WishlistItemFactory(
        user_id=owner, image_url="https://images.example.com/old.jpg", image_width=640, image_height=480
    )
    data = api.patch(item_url(item.id), {"imageUrl": "https://images.example.com/new.jpg"}, format="json").json()
    assert (data["data"]["imageUrl"], data["data"]["imageWidth"], data["data"]["imageHeight"]) == (
        "https://images.example.com/new.jpg",
        None,
        None,
    )


def test_an_empty_update_changes_nothing_but_updated_at(api, item):
    response = api.patch(item_url(item.id), {}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["title"] == item.title


def test_update_validation_reports_fields_and_changes_nothing(api, item):
    response = api.patch(
        item_url(item.id), {"title": None, "sortOrder": -3, "imageUrl": "javascript:alert(1)"}, format="json"
    )
    error = assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")
    assert set(error["details"]["fields"]) == {"title", "sortOrder", "imageUrl"}
    assert WishlistItem.objects.get(pk=item.pk).title == item.title


def test_update_needs_a_json_body(api, item):
    assert_error(api.patch(item_url(item.id), "title=x", content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(
        api.patch(item_url(item.id), "{", content_type="application/json"), 400, "BAD_REQUEST", "Malformed JSON body"
    )


# --- W7 delete -------------------------------------------------------------------------------------------------------


def test_owner_deletes_an_item(api, item):
    response = api.delete(item_url(item.id))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Wishlist item deleted successfully"
    assert body["data"] == {"id": str(item.id)}
    assert not WishlistItem.objects.filter(pk=item.pk).exists()
    assert_error(api.get(item_url(item.id)), 404, "NOT_FOUND", "Wishlist item not found")
