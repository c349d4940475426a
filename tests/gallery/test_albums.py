"""G9-G13 (SPEC §4.3): albums listed, created, shown with their newest images, updated and deleted, per caller (owner,
other user, anonymous), with the cover rules, the validation errors, the cache and the query counts, against real
services."""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import unquote, urlsplit

import pytest
from django.utils import timezone

from gallery.models import GalleryAlbum, GalleryImage
from gallery.search import KIND as GALLERY_INDEX
from lego_api.core.search import get_client, index_name
from tests.factories import GalleryAlbumFactory, GalleryImageFactory
from tests.gallery.conftest import indexed
from tests.gallery.test_images_api import IMAGE_KEYS
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

ALBUM_KEYS = {
    "id",
    "userId",
    "title",
    "description",
    "coverImageId",
    "createdAt",
    "lastUpdatedAt",
    "imageCount",
    "coverImageUrl",
    "coverThumbnailUrl",
}


def names_key(url: str, key: str) -> bool:
    """The rendered URL (presigned S3, CDN or media) points at this storage key."""
    return unquote(urlsplit(url).path).endswith("/" + key)


def images_in(album: GalleryAlbum, count: int, *, start: dt.datetime | None = None) -> list[GalleryImage]:
    """`count` images of the album's owner in it, one minute apart, the newest last."""
    start = start or timezone.now() - dt.timedelta(days=1)
    return [
        GalleryImageFactory(user_id=album.user_id, album=album, created_at=start + dt.timedelta(minutes=i))
        for i in range(count)
    ]


def bulk_images(album: GalleryAlbum, count: int) -> list[GalleryImage]:
    """`count` images in the album, written in one statement (rows only: for counts, not for searches)."""
    return GalleryImage.objects.bulk_create(
        GalleryImageFactory.build(user_id=album.user_id, album=album) for _ in range(count)
    )


# --- Every route: anonymous, another user's album, a missing one ---------------------------------------------------

ALBUM_ROUTES = [("get", ""), ("patch", ""), ("put", ""), ("delete", "")]


@pytest.mark.parametrize(("method", "path"), [("get", "/api/albums"), ("post", "/api/albums")])
def test_anonymous_gets_401_on_the_collection(anonymous, method, path):
    assert_error(getattr(anonymous, method)(path, {"title": "X"}), 401, "UNAUTHORIZED", "Authentication required")


@pytest.mark.parametrize(("method", "suffix"), ALBUM_ROUTES)
def test_anonymous_gets_401_on_an_album(anonymous, album, method, suffix):
    response = getattr(anonymous, method)(f"/api/albums/{album.pk}{suffix}", {"title": "X"}, format="json")
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")


@pytest.mark.parametrize(("method", "suffix"), ALBUM_ROUTES)
def test_other_user_gets_403_and_the_album_stays(other_api, album, method, suffix):
    response = getattr(other_api, method)(f"/api/albums/{album.pk}{suffix}", {"title": "Mine now"}, format="json")
    assert_error(response, 403, "FORBIDDEN", "You do not own this album")
    assert GalleryAlbum.objects.get(pk=album.pk).title == album.title


@pytest.mark.parametrize(("method", "suffix"), ALBUM_ROUTES)
def test_missing_album_gets_404(api, method, suffix):
    response = getattr(api, method)(f"/api/albums/{uuid.uuid4()}{suffix}", {"title": "X"}, format="json")
    assert_error(response, 404, "NOT_FOUND", "Album not found")


def test_malformed_album_id_is_an_unknown_route(api):
    assert_error(api.get("/api/albums/not-a-uuid"), 404, "NOT_FOUND", "Route not found")


def test_trailing_slash_is_accepted_without_redirect(api, album):
    assert api.get("/api/albums/").status_code == 200
    assert api.get(f"/api/albums/{album.pk}/").status_code == 200


# --- G9 list ----------------------------------------------------------------------------------------------------


def test_owner_lists_their_albums_newest_first_with_counts_and_covers(api, owner, other_user):
    now = timezone.now()
    older = GalleryAlbumFactory(user_id=owner, created_at=now - dt.timedelta(hours=2))
    newer = GalleryAlbumFactory(user_id=owner, created_at=now - dt.timedelta(hours=1))
    GalleryAlbumFactory(user_id=other_user)
    images_in(older, 3)
    cover = GalleryImageFactory(user_id=owner)  # standalone: a cover need not be in the album
    GalleryAlbum.objects.filter(pk=newer.pk).update(cover_image=cover)

    response = api.get("/api/albums")
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (2, 1, 20, 1)
    first, second = body["data"]
    assert set(first) == ALBUM_KEYS
    assert [first["id"], second["id"]] == [str(newer.pk), str(older.pk)]
    assert (first["imageCount"], second["imageCount"]) == (0, 3)
    assert first["coverImageId"] == str(cover.pk)
    assert names_key(first["coverImageUrl"], cover.image_url)
    assert names_key(first["coverThumbnailUrl"], cover.thumbnail_url)
    assert second["coverImageId"] is second["coverImageUrl"] is second["coverThumbnailUrl"] is None


def test_equal_creation_times_are_ordered_by_id(api, owner):
    stamp = timezone.now()
    albums = [GalleryAlbumFactory(user_id=owner, created_at=stamp) for _ in range(4)]
    listed = [a["id"] for a in api.get("/api/albums").json()["data"]]
    assert listed == sorted(str(a.pk) for a in albums)


def test_paging_follows_the_list_rules(api, owner):
    for _ in range(3):
        GalleryAlbumFactory(user_id=owner)
    body = api.get("/api/albums", {"page": 2, "limit": 2}).json()
    assert (len(body["data"]), body["total"], body["totalPages"]) == (1, 3, 2)
    assert api.get("/api/albums", {"page": 9}).json()["data"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"page": 0}, "page"), ({"search": "x" * 201}, "search")],
)
def test_invalid_list_query_gets_400_on_the_parameter(api, params, field):
    error = assert_error(api.get("/api/albums", params), 400, "VALIDATION_ERROR", "Validation failed")
    assert list(error["details"]["fields"]) == [field]


def test_search_filters_by_title_and_description_and_keeps_the_date_order(api, owner):
    now = timezone.now()
    by_title = GalleryAlbumFactory(user_id=owner, title="Harbour cranes", created_at=now - dt.timedelta(hours=3))
    by_description = GalleryAlbumFactory(
        user_id=owner, title="Week 12", description="Cranes loading the ship", created_at=now - dt.timedelta(hours=1)
    )
    GalleryAlbumFactory(user_id=owner, title="Castle", description="Towers")
    listed = api.get("/api/albums", {"search": "crane"}).json()
    # createdAt desc, though the title match ranks higher (search is a filter here, SPEC §4.3 G9).
    assert [a["id"] for a in listed["data"]] == [str(by_description.pk), str(by_title.pk)]
    assert listed["total"] == 2


def test_search_matches_a_misspelled_title_by_trigram_similarity(api, owner):
    album = GalleryAlbumFactory(user_id=owner, title="Lighthouse", description=None)
    GalleryAlbumFactory(user_id=owner, title="Space station", description=None)
    assert [a["id"] for a in api.get("/api/albums", {"search": "lighthuose"}).json()["data"]] == [str(album.pk)]


def test_list_query_count_does_not_grow_with_albums_and_images(api, owner, clock, django_assert_max_num_queries):
    """A COUNT and one page query (image counts and covers inside it), with 1 or 50 albums of 1 or 50 images."""
    api.get("/api/albums")  # the caller's first request also records their profile and checks cache debts
    for albums, images, limit in ((1, 1, 100), (49, 50, 99)):  # rows written directly bump nothing: a new limit
        for _ in range(albums):
            album = GalleryAlbumFactory(user_id=owner)
            GalleryAlbum.objects.filter(pk=album.pk).update(cover_image=bulk_images(album, images)[0])
        with django_assert_max_num_queries(2):
            response = api.get("/api/albums", {"limit": limit})
        assert response["X-Cache"] == "MISS"
        data = response.json()["data"]
        assert len(data) == GalleryAlbum.objects.count()
        assert data[0]["imageCount"] == images and all(a["coverImageUrl"] for a in data)


# --- G10 create ---------------------------------------------------------------------------------------------------


def test_owner_creates_an_album(api, owner):
    before = timezone.now()
    response = api.post(
        "/api/albums", {"title": "  Harbour  ", "description": "   ", "userId": "someone-else"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "Album created successfully"
    data = body["data"]
    assert set(data) == ALBUM_KEYS
    assert (data["userId"], data["title"], data["description"]) == (owner, "Harbour", None)
    assert (data["imageCount"], data["coverImageId"], data["coverImageUrl"]) == (0, None, None)
    album = GalleryAlbum.objects.get(pk=data["id"])
    assert album.created_at >= before and album.last_updated_at == album.created_at


def test_create_with_one_of_the_callers_images_as_cover(api, owner):
    cover = GalleryImageFactory(user_id=owner)
    response = api.post("/api/albums", {"title": "Harbour", "coverImageId": str(cover.pk)}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["coverImageId"] == str(cover.pk)
    assert names_key(data["coverImageUrl"], cover.image_url)
    assert names_key(data["coverThumbnailUrl"], cover.thumbnail_url)
    assert data["imageCount"] == 0  # the cover is not moved into the album
    assert GalleryImage.objects.get(pk=cover.pk).album_id is None


@pytest.mark.parametrize("whose", ["another user's", "a missing"])
def test_cover_that_is_not_one_of_the_callers_images_gets_400(api, other_user, whose):
    cover_id = GalleryImageFactory(user_id=other_user).pk if whose == "another user's" else uuid.uuid4()
    response = api.post("/api/albums", {"title": "Harbour", "coverImageId": str(cover_id)}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", {"coverImageId": ["Cover image not found"]})
    assert not GalleryAlbum.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"title": ["This field is required."]}),
        ({"title": "   "}, {"title": ["This field may not be blank."]}),
        ({"title": None}, {"title": ["This field may not be null."]}),
        ({"title": "x" * 201}, {"title": ["Ensure this field has no more than 200 characters."]}),
        (
            {"title": "Ok", "description": "d" * 2001},
            {"description": ["Ensure this field has no more than 2000 characters."]},
        ),
        ({"title": "Ok", "coverImageId": "cover"}, {"coverImageId": ["Must be a valid UUID."]}),
    ],
)
def test_invalid_create_body_gets_400_with_field_details(api, body, fields):
    response = api.post("/api/albums", body, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", fields)


def test_create_needs_a_json_body(api):
    assert_error(api.post("/api/albums", "title=x", content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE")


# --- G11 detail ---------------------------------------------------------------------------------------------------


def test_owner_gets_the_album_with_its_images_newest_first(api, owner, album):
    inside = images_in(album, 3)
    GalleryImageFactory(user_id=owner)  # standalone
    GalleryImageFactory(user_id=owner, album=GalleryAlbumFactory(user_id=owner))  # another album's
    response = api.get(f"/api/albums/{album.pk}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == ALBUM_KEYS | {"images"}
    assert data["imageCount"] == 3
    assert [i["id"] for i in data["images"]] == [str(i.pk) for i in reversed(inside)]
    assert all(set(i) == IMAGE_KEYS and i["albumId"] == str(album.pk) for i in data["images"])


def test_detail_shows_the_100_newest_of_more_images(api, album):
    inside = images_in(album, 103)
    data = api.get(f"/api/albums/{album.pk}").json()["data"]
    assert data["imageCount"] == 103
    assert [i["id"] for i in data["images"]] == [str(i.pk) for i in reversed(inside[3:])]


def test_detail_query_count_does_not_grow_with_images(api, owner, clock, django_assert_max_num_queries):
    """The album (count and cover inside) and its newest images: two queries, with 1 or 50 images."""
    api.get("/api/albums")  # the caller's first request also records their profile and checks cache debts
    for count in (1, 50):
        album = GalleryAlbumFactory(user_id=owner)
        GalleryAlbum.objects.filter(pk=album.pk).update(cover_image=bulk_images(album, count)[-1])
        with django_assert_max_num_queries(2):
            data = api.get(f"/api/albums/{album.pk}").json()["data"]
        assert len(data["images"]) == data["imageCount"] == count


# --- G12 update ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_owner_updates_part_of_an_album(api, album, method):
    response = getattr(api, method)(f"/api/albums/{album.pk}", {"title": "Renamed"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Album updated successfully"
    assert (body["data"]["title"], body["data"]["description"]) == ("Renamed", album.description)
    stored = GalleryAlbum.objects.get(pk=album.pk)
    assert stored.last_updated_at > album.last_updated_at and stored.created_at == album.created_at


def test_owner_sets_and_clears_the_cover(api, owner, album):
    cover = GalleryImageFactory(user_id=owner)
    data = api.patch(f"/api/albums/{album.pk}", {"coverImageId": str(cover.pk)}, format="json").json()["data"]
    assert data["coverImageId"] == str(cover.pk) and names_key(data["coverImageUrl"], cover.image_url)
    data = api.patch(f"/api/albums/{album.pk}", {"coverImageId": None}, format="json").json()["data"]
    assert data["coverImageId"] is data["coverImageUrl"] is data["coverThumbnailUrl"] is None


def test_update_with_another_users_image_as_cover_gets_400(api, album, other_user):
    foreign = GalleryImageFactory(user_id=other_user)
    response = api.patch(f"/api/albums/{album.pk}", {"coverImageId": str(foreign.pk)}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", {"coverImageId": ["Cover image not found"]})
    assert GalleryAlbum.objects.get(pk=album.pk).cover_image_id is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"title": ""}, {"title": ["This field may not be blank."]}),
        ({"title": None}, {"title": ["This field may not be null."]}),
        ({"title": "t" * 201}, {"title": ["Ensure this field has no more than 200 characters."]}),
    ],
)
def test_invalid_update_body_gets_400_with_field_details(api, album, body, fields):
    response = api.patch(f"/api/albums/{album.pk}", body, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", fields)


def test_description_can_be_cleared(api, album):
    data = api.patch(f"/api/albums/{album.pk}", {"description": None}, format="json").json()["data"]
    assert data["description"] is None


def test_deleting_the_cover_image_leaves_the_album_without_a_cover(api, owner, album):
    cover = GalleryImageFactory(user_id=owner, album=album)
    api.patch(f"/api/albums/{album.pk}", {"coverImageId": str(cover.pk)}, format="json")
    assert api.delete(f"/api/images/{cover.pk}").status_code == 200
    data = api.get(f"/api/albums/{album.pk}").json()["data"]
    assert (data["coverImageId"], data["coverImageUrl"], data["imageCount"]) == (None, None, 0)


# --- G13 delete ---------------------------------------------------------------------------------------------------


def test_owner_deletes_an_album_and_keeps_its_images(api, album):
    inside = images_in(album, 2)
    response = api.delete(f"/api/albums/{album.pk}")
    assert response.status_code == 200
    assert response.json()["message"] == "Album deleted successfully"
    assert response.json()["data"] == {"id": str(album.pk)}
    assert not GalleryAlbum.objects.filter(pk=album.pk).exists()
    assert set(GalleryImage.objects.filter(pk__in=[i.pk for i in inside]).values_list("album_id", flat=True)) == {None}
    assert_error(api.delete(f"/api/albums/{album.pk}"), 404, "NOT_FOUND", "Album not found")


@pytest.mark.django_db(transaction=True)
def test_delete_reindexes_the_former_images_without_album(api, owner):
    album = GalleryAlbumFactory(user_id=owner)
    inside = indexed(*images_in(album, 3))
    ids = [str(i.pk) for i in inside]
    client = get_client()

    def indexed_album_ids() -> set:
        return {client.get(index=index_name(GALLERY_INDEX), id=pk)["_source"]["albumId"] for pk in ids}

    assert indexed_album_ids() == {str(album.pk)}
    assert api.delete(f"/api/albums/{album.pk}").status_code == 200
    client.indices.refresh(index=index_name(GALLERY_INDEX))
    assert indexed_album_ids() == {None}


# --- Cache (SPEC §6.1 `gallery:albums`, `gallery:album`) ------------------------------------------------------


def test_list_and_detail_are_cached_until_a_gallery_write(api, owner, album, django_capture_on_commit_callbacks):
    urls = ["/api/albums", "/api/albums?search=castle", f"/api/albums/{album.pk}"]
    assert [api.get(url)["X-Cache"] for url in urls] == ["MISS"] * 3
    assert [api.get(url)["X-Cache"] for url in urls] == ["HIT"] * 3
    with django_capture_on_commit_callbacks(execute=True):
        assert api.patch(f"/api/albums/{album.pk}", {"title": "Castle walls"}, format="json").status_code == 200
    responses = [api.get(url) for url in urls]
    assert [r["X-Cache"] for r in responses] == ["MISS"] * 3
    assert responses[2].json()["data"]["title"] == "Castle walls"


@pytest.mark.parametrize("write", ["create album", "delete album", "update image"])
def test_every_gallery_write_invalidates_the_album_list(api, owner, album, write, django_capture_on_commit_callbacks):
    image = GalleryImageFactory(user_id=owner)
    api.get("/api/albums")
    assert api.get("/api/albums")["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        if write == "create album":
            response = api.post("/api/albums", {"title": "New"}, format="json")
        elif write == "delete album":
            response = api.delete(f"/api/albums/{album.pk}")
        else:
            response = api.patch(f"/api/images/{image.pk}", {"albumId": str(album.pk)}, format="json")
    assert response.status_code in (200, 201), response.content
    listed = api.get("/api/albums")
    assert listed["X-Cache"] == "MISS"
    assert listed.json()["total"] == {"create album": 2, "delete album": 0, "update image": 1}[write]
    if write == "update image":
        assert listed.json()["data"][0]["imageCount"] == 1


def test_another_users_cached_list_is_not_served(api, other_api, album):
    assert api.get("/api/albums").json()["total"] == 1
    other = other_api.get("/api/albums")
    assert other["X-Cache"] == "MISS" and other.json()["total"] == 0
