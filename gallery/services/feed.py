"""The gallery feed (SPEC §4.3 G14): the caller's albums and standalone images as one sequence, ordered by
createdAt desc then id, paged by an integer-offset cursor, filtered and searched in the database.

It costs at most three SQL statements whatever the page: one UNION ALL of the two tables' `(created_at, id, kind)`
keys (each table's first `cursor + limit + 1` in feed order), ordered and sliced `OFFSET cursor LIMIT limit + 1` by
PostgreSQL, then one statement per kind for the page's rows (albums with their computed fields). Nothing is merged
in Python beyond the page itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from django.db.models import F, QuerySet, Value

from gallery.models import GalleryAlbum, GalleryImage
from gallery.services.albums import album_queryset, albums_matching, text_match
from lego_api.core.search.query import SQL_MAX_OFFSET

FeedType = Literal["all", "album", "image"]
FEED_TYPES: tuple[FeedType, ...] = ("all", "album", "image")
ALBUM, IMAGE = "album", "image"


@dataclass(frozen=True)
class FeedFilters:
    """G14's query, validated: `type`, and the filters (None when not given; `tag` lower-cased)."""

    type: FeedType = "all"
    album_id: UUID | None = None
    tag: str | None = None
    flagged: bool | None = None
    search: str | None = None

    @property
    def includes_albums(self) -> bool:
        """Albums are in the feed unless images only are asked for, or an image filter is given."""
        return self.type != IMAGE and self.album_id is None and self.tag is None and self.flagged is None

    @property
    def includes_images(self) -> bool:
        return self.type != ALBUM


@dataclass(frozen=True)
class FeedPage:
    """One page of the feed: albums and images in feed order; `next_cursor` is None on the last page."""

    items: list[GalleryAlbum | GalleryImage]
    next_cursor: int | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def feed_albums(*, user_id: str, filters: FeedFilters) -> QuerySet[GalleryAlbum]:
    """The albums of the feed (when it includes albums at all): the caller's, matching the search."""
    albums = GalleryAlbum.objects.filter(user_id=user_id)
    return albums_matching(albums, filters.search) if filters.search else albums


def feed_images(*, user_id: str, filters: FeedFilters) -> QuerySet[GalleryImage]:
    """The images of the feed: standalone ones, or that album's when `album_id` is given; then `tag`, `flagged`,
    and the search on title, description and tags (the stored `search_vector`) or the title's trigrams."""
    images = GalleryImage.objects.filter(user_id=user_id)
    images = images.filter(album_id=filters.album_id) if filters.album_id else images.filter(album_id__isnull=True)
    if filters.tag is not None:
        images = images.filter(tags__contains=[filters.tag])  # jsonb `@>`: the GIN index on tags applies
    if filters.flagged is not None:
        images = images.filter(flagged=filters.flagged)
    if filters.search:
        images = images.filter(text_match(F("search_vector"), filters.search))
    return images


FEED_ORDER = ("-created_at", "id")


def _keys(queryset: QuerySet, kind: str, *, end: int) -> QuerySet:
    """`(created_at, id, kind)` of the first `end` rows in feed order: the merged sequence's first `end` items come
    from these, whatever the other table holds, so each table stops early (an index scan on a first page)."""
    return queryset.annotate(kind=Value(kind)).values_list("created_at", "id", "kind").order_by(*FEED_ORDER)[:end]


def feed_page(*, user_id: str, filters: FeedFilters, cursor: int, limit: int) -> FeedPage:
    """G14: items `[cursor, cursor + limit)` of the merged sequence; `next_cursor = cursor + limit` when more
    remain (an extra key is fetched to know)."""
    end = cursor + limit + 1
    if end > SQL_MAX_OFFSET:  # PostgreSQL's OFFSET and LIMIT are bigints
        return FeedPage(items=[], next_cursor=None)
    parts = []
    if filters.includes_albums:
        parts.append(_keys(feed_albums(user_id=user_id, filters=filters), ALBUM, end=end))
    if filters.includes_images:
        parts.append(_keys(feed_images(user_id=user_id, filters=filters), IMAGE, end=end))
    if not parts:
        return FeedPage(items=[], next_cursor=None)
    if len(parts) == 1:
        keys = list(parts[0][cursor:end])
    else:
        keys = list(parts[0].union(*parts[1:], all=True).order_by(*FEED_ORDER)[cursor:end])
    has_more = len(keys) > limit
    keys = keys[:limit]

    album_ids = [pk for _, pk, kind in keys if kind == ALBUM]
    image_ids = [pk for _, pk, kind in keys if kind == IMAGE]
    rows: dict[tuple[str, UUID], GalleryAlbum | GalleryImage] = {}
    if album_ids:
        rows.update(((ALBUM, album.pk), album) for album in album_queryset().filter(pk__in=album_ids))
    if image_ids:
        images = GalleryImage.objects.defer("search_vector").filter(pk__in=image_ids)
        rows.update(((IMAGE, image.pk), image) for image in images)
    # A row deleted between the two statements is left out rather than shown half.
    items = [rows[(kind, pk)] for _, pk, kind in keys if (kind, pk) in rows]
    return FeedPage(items=items, next_cursor=cursor + limit if has_more else None)
