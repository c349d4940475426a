"""U1's live stats (SPEC §3.12: MOCs and sets together, images, albums, wishlist items; one COUNT each) and the
profile cache `profile:{uid}:{vP}.{vM}.{vG}.{vW}` (SPEC §6.1): a write in any of the four families is seen at once.
Images and albums are counted through the counters the gallery app registers."""

from __future__ import annotations

import pytest

from lego_api.core.cache import get_versions, response_key
from profiles.views import PROFILE_CACHE_FAMILIES
from tests.factories import SetFactory
from tests.profiles.uploads import image_file

# Writes must commit for their after-commit bumps to run, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NEW_MOC = {
    "type": "moc",
    "title": "Coffee Truck",
    "author": "Jane",
    "partsCount": 3,
    "theme": "City",
    "setNumber": "M-1",
}


def read(api) -> tuple[str, dict]:
    response = api.get("/api/users/me")
    assert response.status_code == 200, response.content
    return response["X-Cache"], response.json()["data"]


def stats(api) -> dict:
    return read(api)[1]["stats"]


def create_moc(api, title: str) -> str:
    response = api.post("/api/mocs", {**NEW_MOC, "title": title}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


def create_wishlist_item(api, title: str) -> str:
    response = api.post("/api/wishlist", {"title": title}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


def test_stats_count_mocs_and_sets_and_wishlist_items_as_they_come_and_go(api, owner, other_api, without_cognito):
    assert stats(api) == {"mocs": 0, "images": 0, "albums": 0, "wishlistItems": 0}

    first = create_moc(api, "Coffee Truck")
    create_moc(api, "Fire Station")
    SetFactory(user_id=owner)  # a set counts as a MOC (same table); a factory row bumps nothing
    create_wishlist_item(api, "Millennium Falcon")
    item = create_wishlist_item(api, "Tower Bridge")
    create_moc(other_api, "Not mine")
    assert stats(api) == {"mocs": 3, "images": 0, "albums": 0, "wishlistItems": 2}

    assert api.delete(f"/api/mocs/{first}").status_code == 200
    assert api.delete(f"/api/wishlist/{item}").status_code == 200
    assert stats(api) == {"mocs": 2, "images": 0, "albums": 0, "wishlistItems": 1}


def test_stats_are_one_count_query_each(api, owner, without_cognito, django_assert_max_num_queries):
    create_moc(api, "Coffee Truck")
    create_wishlist_item(api, "Falcon")
    with django_assert_max_num_queries(8) as captured:  # profile row, mirror (cached flag), the counters
        assert stats(api)["mocs"] == 1
    counting = [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"]]
    assert len(counting) == 4, "one COUNT per registered counter (mocs, images, albums, wishlistItems)"
    assert not [
        query
        for query in captured.captured_queries
        if 'FROM "moc_instructions"' in query["sql"] and "COUNT(" not in query["sql"]
    ], "no MOC row is loaded"


def test_the_profile_key_depends_on_all_four_families(api, owner, without_cognito):
    read(api)
    versions = get_versions(owner, *PROFILE_CACHE_FAMILIES)
    key = response_key("profile", owner, versions, families=PROFILE_CACHE_FAMILIES)
    assert key == (
        f"profile:{owner}:{versions['profile']}.{versions['mocs']}.{versions['gallery']}.{versions['wishlist']}"
    )
    assert read(api)[0] == "HIT"


def test_me_and_the_sub_share_one_cache_entry(api, owner, without_cognito):
    assert read(api)[0] == "MISS"
    response = api.get(f"/api/users/{owner}")
    assert response["X-Cache"] == "HIT"


def _rename(api) -> None:
    assert api.patch("/api/users/me", {"name": "New Name"}, format="json").status_code == 200


def _upload_avatar(api) -> None:
    assert api.post("/api/users/me/avatar", {"avatar": image_file()}, format="multipart").status_code == 200


def _gallery_write(api) -> None:
    assert api.post("/api/albums", {"title": "Harbour"}, format="json").status_code == 201


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda api, owner: create_moc(api, "Another MOC"), id="mocs"),
        pytest.param(lambda api, owner: create_wishlist_item(api, "Another item"), id="wishlist"),
        pytest.param(lambda api, owner: _gallery_write(api), id="gallery"),
        pytest.param(lambda api, owner: _rename(api), id="profile-rename"),
        pytest.param(lambda api, owner: _upload_avatar(api), id="profile-avatar"),
    ],
)
def test_a_write_in_any_family_invalidates_the_cached_profile(api, owner, without_cognito, write):
    read(api)
    assert read(api)[0] == "HIT"
    write(api, owner)
    state, profile = read(api)
    assert state == "MISS"
    assert read(api) == ("HIT", profile)


def test_stats_after_a_cached_read_follow_the_write(api, owner, without_cognito):
    read(api)
    create_moc(api, "Coffee Truck")
    assert stats(api)["mocs"] == 1


def test_another_callers_cached_profile_is_never_served(api, other_api, owner, other_user, without_cognito):
    assert read(api)[1]["id"] == owner
    assert read(other_api)[1]["id"] == other_user


def upload_gallery_image(api, title: str) -> str:
    response = api.post("/api/images", {"image": image_file(), "title": title}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["data"]["id"]


def test_stats_count_gallery_images_and_albums_as_they_come_and_go(api, owner, other_api, without_cognito):
    """The gallery's counters through the registry (no app imports another): G1/G10 add, G6/G13 take away, and
    each write invalidates the cached profile."""
    assert read(api)[1]["stats"] == {"mocs": 0, "images": 0, "albums": 0, "wishlistItems": 0}
    assert read(api)[0] == "HIT"

    first = upload_gallery_image(api, "Harbour at dusk")
    assert read(api)[1]["stats"]["images"] == 1
    upload_gallery_image(api, "Harbour at dawn")
    album = api.post("/api/albums", {"title": "Harbour", "coverImageId": first}, format="json")
    assert album.status_code == 201, album.content
    upload_gallery_image(other_api, "Not mine")
    state, profile = read(api)
    assert state == "MISS"
    assert profile["stats"] == {"mocs": 0, "images": 2, "albums": 1, "wishlistItems": 0}

    assert api.delete(f"/api/images/{first}").status_code == 200
    assert api.delete(f"/api/albums/{album.json()['data']['id']}").status_code == 200
    state, profile = read(api)
    assert state == "MISS"
    assert profile["stats"] == {"mocs": 0, "images": 1, "albums": 0, "wishlistItems": 0}
