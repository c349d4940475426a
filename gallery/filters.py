"""Query filters of G2 `GET /api/images` and G3 `GET /api/images/search` (SPEC §4.3): `albumId` (format only: a
foreign id matches nothing, §1.9), `tag`, `flagged` and the `search` text, validated by the core rules (a bad value
is a 400 VALIDATION_ERROR on that parameter). Pass `lego_api.core.query.query_params(request)` as the data."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from gallery.models import GalleryImage
from lego_api.core.query import BooleanQueryFilter, TextFilter

SEARCH_MAX_LENGTH = 200
TAG_MAX_LENGTH = 50


class GalleryImageFilter(django_filters.FilterSet):
    albumId = django_filters.UUIDFilter(field_name="album_id", help_text="Only this album's images.")
    tag = TextFilter(method="filter_tag", max_length=TAG_MAX_LENGTH, help_text="Exact tag (lower-cased).")
    flagged = BooleanQueryFilter(field_name="flagged", help_text="`true` or `false` (set by moderators).")
    search = TextFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Full-text search, ranked by relevance; the other filters still apply (SPEC §6.2).",
    )

    class Meta:
        model = GalleryImage
        fields = ["albumId", "tag", "flagged", "search"]

    def filter_tag(self, queryset: QuerySet[GalleryImage], name: str, value: str) -> QuerySet[GalleryImage]:
        # Tags are stored lower-cased, so the filter is an exact jsonb containment (`@>`, GIN jsonb_path_ops).
        return queryset.filter(tags__contains=[value.strip().lower()])

    def filter_search(self, queryset: QuerySet[GalleryImage], name: str, value: str) -> QuerySet[GalleryImage]:
        # Validated here, answered by `gallery.search.search_images` (the view routes a search there).
        return queryset
