"""G14 `GET /api/gallery` (SPEC §4.3): the feed of albums and standalone images, paged by the integer cursor and
checked against a brute-force merge of the same rows for several cursors, types and filters; the database search;
the validation errors; the three-statement bound as rows grow; the cache."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from gallery.models import GalleryAlbum, GalleryImage
from tests.factories import GalleryAlbumFactory, GalleryFlagFactory, GalleryImageFactory
from tests.gallery.test_albums import ALBUM_KEYS, bulk_images
from tests.gallery.test_images_api import IMAGE_KEYS
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

SEARCH_WORD = "harbour"


@dataclass(frozen=True)
class Query:
    """A feed query, and the same rules applied by hand to model rows (the brute force)."""

    type: str = "all"
    album: str | None = None  # a key of the catalogue's albums
    tag: str | None = None
    flagged: bool | None = None
    search: str | None = None

    def params(self, albums: dict[str, GalleryAlbum]) -> dict[str, str]:
        params = {"type": self.type}
        if self.album:
            params["albumId"] = str(albums[self.album].pk)
        if self.tag:
            params["tag"] = self.tag
        if self.flagged is not None:
            params["flagged"] = str(self.flagged).lower()
        if self.search:
            params["search"] = self.search
        return params

    def expected(self, owner: str, albums: dict[str, GalleryAlbum]) -> list[tuple[str, str]]:
        """`(type, id)` of every item, merged by createdAt desc then id, from the rows as the models hold them.
        The catalogue's texts are made so that a search for SEARCH_WORD matches exactly the rows naming it."""
        album_id = albums[self.album].pk if self.album else None
        rows: list[tuple[dt.datetime, uuid.UUID, str]] = []
        if self.type != "image" and not (self.album or self.tag or self.flagged is not None):
            for album in GalleryAlbum.objects.filter(user_id=owner):
                if self.search is None or mentions(album.title, album.description):
                    rows.append((album.created_at, album.pk, "album"))
        if self.type != "album":
            for image in GalleryImage.objects.filter(user_id=owner, album_id=album_id):
                if self.tag is not None and self.tag.lower() not in image.tags:
                    continue
                if self.flagged is not None and image.flagged != self.flagged:
                    continue
                if self.search is not None and not mentions(image.title, image.description, *image.tags):
                    continue
                rows.append((image.created_at, image.pk, "image"))
        rows.sort(key=lambda row: row[1])  # Python and PostgreSQL order UUIDs alike (by their 128 bits)
        rows.sort(key=lambda row: row[0], reverse=True)  # stable: equal times keep the id order
        return [(kind, str(pk)) for _, pk, kind in rows]


def mentions(*texts: str | None) -> bool:
    return any(SEARCH_WORD in (text or "").lower() for text in texts)


@pytest.fixture
def catalogue(owner, other_user) -> dict[str, GalleryAlbum]:
    """`owner`'s albums and images with times spread over a week, several sharing one instant (albums and images
    alike, so the id tie-break decides between kinds), tags, flags, search words; and another user's rows."""
    start = timezone.now() - dt.timedelta(days=7)
    tie = start + dt.timedelta(days=3)
    moments = itertools.cycle([tie, tie, *(start + dt.timedelta(hours=h) for h in range(1, 160, 4))])
    albums = {
        name: GalleryAlbumFactory(user_id=owner, title=title, description=description, created_at=next(moments))
        for name, title, description in [
            ("harbour", "Harbour scenes", None),
            ("castle", "Castle", "Walls and towers near the harbour"),
            ("space", "Space", "Rockets"),
            ("empty", "Empty", None),
            ("trains", "Trains", "Steam and diesel"),
        ]
    }
    for index in range(40):
        in_album = [None, None, "castle", None, "harbour", "space"][index % 6]
        tags = [["castle"], ["Harbour", "boat"], ["space"], []][index % 4]
        named = index % 6 == 0
        GalleryImageFactory(
            user_id=owner,
            album=albums[in_album] if in_album else None,
            title=f"Harbour view {index}" if named else f"Build {index}",
            description="Seen from the pier" if index % 7 else "The harbour at night",
            tags=[tag.lower() for tag in tags],
            flagged=index % 5 == 0,
            created_at=next(moments),
        )
    GalleryAlbumFactory(user_id=other_user, title="Harbour of someone else")
    GalleryImageFactory(user_id=other_user, title="Harbour of someone else")
    return albums


def walk(api, params: dict[str, str], limit: int) -> list[tuple[str, str]]:
    """Every item of the feed, page after page through `nextCursor`."""
    items, cursor = [], 0
    while True:
        response = api.get("/api/gallery", {**params, "limit": limit, "cursor": cursor})
        assert response.status_code == 200, response.content
        data = response.json()["data"]
        items += [(item["type"], item["id"]) for item in data["items"]]
        assert data["hasMore"] is (data["nextCursor"] is not None)
        if not data["hasMore"]:
            assert len(data["items"]) <= limit
            return items
        assert data["nextCursor"] == cursor + limit and len(data["items"]) == limit
        cursor = data["nextCursor"]


QUERIES = [
    Query(),
    Query(type="album"),
    Query(type="image"),
    Query(album="castle"),
    Query(album="castle", type="album"),
    Query(album="empty"),
    Query(tag="harbour"),
    Query(tag="HARBOUR", type="image"),
    Query(flagged=True),
    Query(flagged=False, tag="castle"),
    Query(search=SEARCH_WORD),
    Query(search=SEARCH_WORD, type="album"),
    Query(search=SEARCH_WORD, flagged=True),
    Query(search=SEARCH_WORD, album="harbour"),
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.__dict__.items() if v))
def test_feed_pages_match_a_brute_force_merge_of_the_rows(api, owner, catalogue, query):
    expected = query.expected(owner, catalogue)
    params = query.params(catalogue)
    for limit in (1, 4, 7, 100):
        assert walk(api, params, limit) == expected, f"limit {limit}"
    for cursor in sorted({0, 3, 5, 11, max(len(expected) - 1, 0), len(expected), len(expected) + 5}):
        data = api.get("/api/gallery", {**params, "limit": 5, "cursor": cursor}).json()["data"]
        assert [(item["type"], item["id"]) for item in data["items"]] == expected[cursor : cursor + 5]
        assert data["nextCursor"] == (cursor + 5 if cursor + 5 < len(expected) else None)


def test_the_catalogue_exercises_every_rule(owner, catalogue):
    """The brute force is only as good as its data: ties across kinds, matches and misses of every filter."""
    merged = Query().expected(owner, catalogue)
    assert {kind for kind, _ in merged} == {"album", "image"}
    times = [a.created_at for a in GalleryAlbum.objects.filter(user_id=owner)]
    times += [i.created_at for i in GalleryImage.objects.filter(user_id=owner, album=None)]
    assert len(times) > len(set(times)), "some items share a createdAt"
    empty = [query for query in QUERIES if not query.expected(owner, catalogue)]
    assert empty == [Query(album="castle", type="album"), Query(album="empty")]


def test_items_are_shaped_as_albums_and_images_with_their_type(api, owner, catalogue):
    items = api.get("/api/gallery", {"limit": 100}).json()["data"]["items"]
    albums = [item for item in items if item["type"] == "album"]
    images = [item for item in items if item["type"] == "image"]
    assert albums and images and len(albums) + len(images) == len(items)
    assert all(set(item) == ALBUM_KEYS | {"type"} for item in albums)
    assert all(set(item) == IMAGE_KEYS | {"type"} for item in images)
    castle = next(item for item in albums if item["id"] == str(catalogue["castle"].pk))
    assert castle["imageCount"] == GalleryImage.objects.filter(album=catalogue["castle"]).count()
    assert all(item["albumId"] is None for item in images)


def test_defaults_are_twenty_items_from_the_start(api, owner, catalogue):
    data = api.get("/api/gallery").json()["data"]
    assert len(data["items"]) == 20 and data["nextCursor"] == 20 and data["hasMore"] is True
    assert [(i["type"], i["id"]) for i in data["items"]] == Query().expected(owner, catalogue)[:20]


def test_a_cursor_beyond_any_offset_is_an_empty_last_page(api, catalogue):
    data = api.get("/api/gallery", {"cursor": 10**30}).json()["data"]
    assert data == {"items": [], "nextCursor": None, "hasMore": False}


def test_an_empty_feed(api):
    assert api.get("/api/gallery").json()["data"] == {"items": [], "nextCursor": None, "hasMore": False}


def test_another_users_album_id_matches_nothing(api, other_user):
    foreign = GalleryAlbumFactory(user_id=other_user)
    GalleryImageFactory(user_id=other_user, album=foreign)
    assert api.get("/api/gallery", {"albumId": str(foreign.pk)}).json()["data"]["items"] == []


def test_other_users_rows_never_appear(other_api, owner, catalogue):
    items = other_api.get("/api/gallery", {"limit": 100}).json()["data"]["items"]
    assert [item["title"] for item in items] == ["Harbour of someone else"] * 2


def test_search_matches_a_misspelled_image_title_by_trigram_similarity(api, owner):
    image = GalleryImageFactory(user_id=owner, title="Lighthouse", description=None, tags=[])
    GalleryImageFactory(user_id=owner, title="Space station", description=None, tags=[])
    items = api.get("/api/gallery", {"search": "lighthuose"}).json()["data"]["items"]
    assert [item["id"] for item in items] == [str(image.pk)]


def test_anonymous_gets_401(anonymous):
    assert_error(anonymous.get("/api/gallery"), 401, "UNAUTHORIZED", "Authentication required")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "video"}, "type"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": -1}, "cursor"),
        ({"cursor": "1.5"}, "cursor"),
        ({"albumId": "castle"}, "albumId"),
        ({"flagged": "yes"}, "flagged"),
        ({"search": "s" * 201}, "search"),
        ({"tag": "t" * 51}, "tag"),
        ({"search": "bad\x00text"}, "search"),
    ],
)
def test_invalid_query_gets_400_on_the_parameter(api, params, field):
    error = assert_error(api.get("/api/gallery", params), 400, "VALIDATION_ERROR", "Validation failed")
    assert list(error["details"]["fields"]) == [field]


# --- At most three statements, whatever the page and the rows -------------------------------------------------------

FEED_QUERIES = [{}, {"type": "image"}, {"type": "album"}, {"search": "build"}, {"tag": "castle", "flagged": "true"}]


def grow(owner: str, count: int) -> None:
    """`count` more albums (each with `count` images and a cover), standalone images, and flags on them."""
    for _ in range(count):
        album = GalleryAlbumFactory(user_id=owner, title="Build album")
        GalleryAlbum.objects.filter(pk=album.pk).update(cover_image=bulk_images(album, count)[0])
        image = GalleryImageFactory(user_id=owner, title="Build", tags=["castle"], flagged=True)
        GalleryFlagFactory(image=image, user_id=f"flagger-{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize("params", FEED_QUERIES, ids=lambda p: ",".join(p) or "all")
def test_feed_costs_at_most_three_statements_as_rows_grow(api, owner, clock, params, django_assert_max_num_queries):
    api.get("/api/albums")  # the caller's first request also records their profile and checks cache debts
    for count, cursor in ((1, 0), (49, 1)):  # rows written directly bump nothing: a new cursor is a new entry
        grow(owner, count)
        with django_assert_max_num_queries(3):
            response = api.get("/api/gallery", {**params, "limit": 100, "cursor": cursor})
        assert response["X-Cache"] == "MISS"
        assert response.json()["data"]["items"]


# --- Cache (SPEC §6.1 `gallery:feed`) -----------------------------------------------------------------------------


def test_feed_is_cached_until_a_gallery_write(api, owner, catalogue, django_capture_on_commit_callbacks):
    params = {"limit": 3, "cursor": 1}
    first = api.get("/api/gallery", params)
    again = api.get("/api/gallery", params)
    assert (first["X-Cache"], again["X-Cache"]) == ("MISS", "HIT")
    assert first.json()["data"] == again.json()["data"]
    assert api.get("/api/gallery", {**params, "cursor": 2})["X-Cache"] == "MISS"  # another query, another entry
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/albums", {"title": "Newest"}, format="json").status_code == 201
    fresh = api.get("/api/gallery", {"limit": 1})
    assert fresh["X-Cache"] == "MISS"
    assert fresh.json()["data"]["items"][0]["title"] == "Newest"
    assert api.get("/api/gallery", params)["X-Cache"] == "MISS"
