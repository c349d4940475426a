"""The WishlistItem admin (SPEC §7.2): its pages open with the listed columns, search and filter; saves and deletes go
through the services (the API's field rules, the default sortOrder, the search vector, the cache bump, the index and
the deletion of a replaced or orphaned uploaded image)."""

from __future__ import annotations

import pytest

from lego_api.core import search as core_search
from lego_api.core import storage
from lego_api.core.cache import get_versions
from tests.helpers import stored_keys
from tests.wishlist.factories import WishlistItemFactory
from tests.wishlist.uploads import upload_image
from wishlist.models import WishlistItem

# Saves and deletes must commit for their after-commit effects (bump, index, storage delete) to run.
pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/wishlist/wishlistitem/"


def form(item: WishlistItem | None = None, **changes) -> dict:
    """The change form as a browser posts it: every editable field, with `changes` applied."""
    values = {
        "user_id": item.user_id if item else "",
        "title": item.title if item else "",
        "description": (item.description or "") if item else "",
        "product_link": (item.product_link or "") if item else "",
        "image_url": (item.image_url or "") if item else "",
        "category": (item.category or "") if item else "",
        "sort_order": item.sort_order if item else "",
    }
    values.update(changes)
    if item is not None:
        values.pop("user_id")  # read-only once created
    return values


def test_changelist_shows_the_columns_and_searches_and_filters(admin_client):
    WishlistItemFactory(title="Coffee Truck", user_id="alice", category="Vehicles")
    WishlistItemFactory(title="Harbour Lighthouse", user_id="bob", category="Modular")
    page = admin_client.get(CHANGELIST)
    assert page.status_code == 200
    for column in ("column-title", "column-user_id", "column-category", "column-sort_order"):
        assert column.encode() in page.content
    found = admin_client.get(CHANGELIST, {"q": "bob"})
    assert b"Harbour Lighthouse" in found.content and b"Coffee Truck" not in found.content
    filtered = admin_client.get(CHANGELIST, {"category": "Vehicles"})
    assert b"Coffee Truck" in filtered.content and b"Harbour Lighthouse" not in filtered.content


def test_change_page_hides_the_search_vector_and_shows_read_only_fields(admin_client):
    item = WishlistItemFactory(image_width=640, image_height=480)
    body = admin_client.get(f"{CHANGELIST}{item.pk}/change/").content.decode()
    assert 'name="search_vector"' not in body
    assert 'name="user_id"' not in body and 'name="image_width"' not in body
    assert 'name="title"' in body and "640" in body
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 200


def test_adding_an_item_goes_through_the_create_service(admin_client):
    WishlistItemFactory(user_id="alice", sort_order=7)
    versions = get_versions("alice", "wishlist")
    response = admin_client.post(f"{CHANGELIST}add/", form(user_id="alice", title="  Lighthouse  ", category=""))
    assert response.status_code == 302, response.content
    item = WishlistItem.objects.get(user_id="alice", title="Lighthouse")
    assert (item.sort_order, item.category) == (8, None)
    assert get_versions("alice", "wishlist") != versions
    found = core_search.search(core_search.registered()["wishlist"], user_id="alice", q="lighthouse", offset=0, limit=5)
    assert [row.pk for row in found.rows] == [item.pk]
    assert found.backend == "opensearch"


def test_the_api_rules_apply_in_the_admin(admin_client):
    item = WishlistItemFactory()
    response = admin_client.post(
        f"{CHANGELIST}{item.pk}/change/", form(item, product_link="ftp://example.com", sort_order=2_000_000)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"product_link", "sort_order"}
    assert WishlistItem.objects.get(pk=item.pk).product_link == item.product_link


@pytest.fixture
def with_uploaded_image(api, owner) -> WishlistItem:
    item = WishlistItemFactory(user_id=owner)
    assert upload_image(api, item.id).status_code == 200
    return WishlistItem.objects.get(pk=item.pk)


def user_keys(owner: str) -> list[str]:
    return stored_keys(f"wishlist/{storage.user_key_segment(owner)}/")


def test_a_change_that_keeps_the_uploaded_image_keeps_it(admin_client, owner, with_uploaded_image):
    item = with_uploaded_image
    response = admin_client.post(f"{CHANGELIST}{item.pk}/change/", form(item, title="Renamed"))
    assert response.status_code == 302, response.content
    stored = WishlistItem.objects.get(pk=item.pk)
    assert (stored.title, stored.image_url, stored.image_width) == ("Renamed", item.image_url, 64)
    assert user_keys(owner) == [item.image_url]


def test_replacing_the_uploaded_image_deletes_its_object(admin_client, owner, with_uploaded_image):
    item = with_uploaded_image
    response = admin_client.post(
        f"{CHANGELIST}{item.pk}/change/", form(item, image_url="https://images.example.com/new.jpg")
    )
    assert response.status_code == 302, response.content
    stored = WishlistItem.objects.get(pk=item.pk)
    assert (stored.image_url, stored.image_width, stored.image_height) == (
        "https://images.example.com/new.jpg",
        None,
        None,
    )
    assert user_keys(owner) == []


def test_deleting_in_the_admin_deletes_the_uploaded_image(admin_client, owner, with_uploaded_image):
    response = admin_client.post(f"{CHANGELIST}{with_uploaded_image.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not WishlistItem.objects.filter(pk=with_uploaded_image.pk).exists()
    assert user_keys(owner) == []


def test_bulk_delete_goes_through_the_service(admin_client, owner, with_uploaded_image):
    other = WishlistItemFactory(user_id=owner)
    versions = get_versions(owner, "wishlist")
    response = admin_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [with_uploaded_image.pk, other.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not WishlistItem.objects.filter(user_id=owner).exists()
    assert user_keys(owner) == []
    assert get_versions(owner, "wishlist") != versions
