"""Query filters of W1 `GET /api/wishlist` (SPEC §4.4): `category` (exact) and the `search` text, validated by the
core text rule (a bad value is a 400 VALIDATION_ERROR on that parameter). Pass
`lego_api.core.query.query_params(request)` as the data."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from lego_api.core.query import TextFilter
from wishlist.models import WishlistItem

CATEGORY_MAX_LENGTH = 100
SEARCH_MAX_LENGTH = 200


class WishlistFilter(django_filters.FilterSet):
    category = TextFilter(max_length=CATEGORY_MAX_LENGTH, help_text="Exact category.")
    search = TextFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Full-text search, ranked by relevance (as W3 `GET /api/wishlist/search`).",
    )

    class Meta:
        model = WishlistItem
        fields = ["category", "search"]

    def filter_search(self, queryset: QuerySet[WishlistItem], name: str, value: str) -> QuerySet[WishlistItem]:
        # `search` is validated here but answered by `wishlist.search.search_wishlist` (the view routes it there).
        return queryset
