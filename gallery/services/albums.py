"""Album services (SPEC §4.3 G9-G13): the album rows with their computed fields, the database search rule albums
are matched by, and create / update / delete with their after-commit effects (bump gallery; re-index the images
a delete leaves without an album)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorExact, TrigramSimilarity
from django.db import transaction
from django.db.models import Count, Expression, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from gallery.models import GalleryAlbum, GalleryImage
from gallery.services.images import images_reindex
from lego_api.core import cache as response_cache
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.ownership import get_or_404
from lego_api.core.search.query import TRIGRAM_THRESHOLD
from lego_api.core.updates import save_changes

ALBUM_LABEL = "album"  # `Album not found`, `You do not own this album`, `Album created successfully`
MSG_COVER_NOT_FOUND = "Cover image not found"
COVER_FIELD = "coverImageId"
DETAIL_IMAGES = 100  # G11 shows the newest 100; G2 with `albumId` pages through the rest


# --- Reads ----------------------------------------------------------------------------------------------------------


def album_queryset() -> QuerySet[GalleryAlbum]:
    """Albums with `image_count` and their cover's keys (`cover_image_key`, `cover_thumbnail_key`) in the same
    query: a correlated COUNT and a LEFT JOIN on the cover, however many albums and images there are."""
    counts = (
        GalleryImage.objects.filter(album_id=OuterRef("pk"))
        .order_by()
        .values("album_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return GalleryAlbum.objects.annotate(
        image_count=Coalesce(Subquery(counts), 0),
        cover_image_key=F("cover_image__image_url"),
        cover_thumbnail_key=F("cover_image__thumbnail_url"),
    )


def album_detail_queryset() -> QuerySet[GalleryAlbum]:
    """`album_queryset()` plus `newest_images`: the album's 100 newest images, by createdAt desc then id, in one
    more query (a sliced prefetch)."""
    newest = GalleryImage.objects.defer("search_vector").order_by("-created_at", "id")[:DETAIL_IMAGES]
    return album_queryset().prefetch_related(Prefetch("images", queryset=newest, to_attr="newest_images"))


def text_match(vector: Expression, q: str) -> Q:
    """The SPEC §6.2 database rule as a filter: `vector @@ websearch_to_tsquery('english', q)` or
    `similarity(title, q) >= 0.3`. The threshold is in the SQL rather than a session setting, so the match costs
    no extra statement (the feed is held to three)."""
    text_query = SearchQuery(q, search_type="websearch", config="english")
    return Q(SearchVectorExact(vector, text_query)) | Q(
        GreaterThanOrEqual(TrigramSimilarity("title", q), TRIGRAM_THRESHOLD)
    )


def albums_matching(queryset: QuerySet[GalleryAlbum], q: str) -> QuerySet[GalleryAlbum]:
    """Albums whose title or description match `q` (SPEC §6.2 "Albums"): having no search column, they compute
    the vector in the query, with the weights of the other tables (title A, description C)."""
    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        "description", weight="C", config="english"
    )
    return queryset.filter(text_match(vector, q))


def album_reload(album_id: UUID) -> GalleryAlbum:
    """The album as the API shows it, computed fields included (after a write)."""
    return album_queryset().get(pk=album_id)


# --- Writes ---------------------------------------------------------------------------------------------------------


def _check_cover(*, user_id: str, data: dict[str, Any]) -> None:
    """A cover is one of the caller's images, else 400 `Cover image not found` on `coverImageId` (SPEC §1.9: another
    user's image is "not found" too). The image is locked until commit, so a concurrent delete waits."""
    cover_id = data.get("cover_image_id")
    if cover_id is None:
        return
    found = GalleryImage.objects.select_for_update(no_key=True).filter(pk=cover_id, user_id=user_id)
    if not found.values_list("pk", flat=True).first():
        raise ValidationFailed.on_field(COVER_FIELD, MSG_COVER_NOT_FOUND)


@transaction.atomic
def album_create(*, user_id: str, data: dict[str, Any]) -> GalleryAlbum:
    """G10: an album from validated `title`, `description`, `cover_image_id` (the cover need not be in it)."""
    _check_cover(user_id=user_id, data=data)
    now = timezone.now()
    album = GalleryAlbum.objects.create(user_id=user_id, created_at=now, last_updated_at=now, **data)
    response_cache.bump("gallery", user_id)
    return album_reload(album.pk)


@transaction.atomic
def album_update(*, album: GalleryAlbum, data: dict[str, Any]) -> GalleryAlbum:
    """G12: apply the fields sent (a partial update); `lastUpdatedAt` is set."""
    _check_cover(user_id=album.user_id, data=data)
    save_changes(album, data, stamp="last_updated_at")
    response_cache.bump("gallery", album.user_id)
    return album_reload(album.pk)


@transaction.atomic
def album_delete(*, album: GalleryAlbum) -> None:
    """G13: delete the album and keep its images (`album_id` set to null, SPEC §3.11); the images' documents carry
    `albumId`, so they are re-indexed after commit.

    The album row is locked before its images are listed: an image update naming the album must lock the row
    (its foreign key check does), so no image joins the album between the listing and the delete."""
    album = get_or_404(GalleryAlbum.objects.select_for_update(), album.pk, label=ALBUM_LABEL)
    image_ids = list(GalleryImage.objects.filter(album_id=album.pk).values_list("pk", flat=True))
    album.delete()
    images_reindex(image_ids=image_ids)
    response_cache.bump("gallery", album.user_id)
