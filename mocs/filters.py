"""Query filters of M1 `GET /api/mocs` (SPEC §4.2): `tag`, `type` and the `search` text, validated by the core text
rule (a bad value is a 400 VALIDATION_ERROR on that parameter). Pass `lego_api.core.query.query_params(request)`
as the data."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from lego_api.core.query import TextChoiceFilter, TextFilter
from mocs.models import Moc, MocType


class MocFilter(django_filters.FilterSet):
    tag = TextFilter(method="filter_tag", max_length=50, help_text="Exact tag (lower-cased).")
    type = TextChoiceFilter(choices=MocType.choices, help_text="`moc` or `set`.")
    search = TextFilter(
        method="filter_search", max_length=200, help_text="Full-text search, ranked by relevance (SPEC §6.2)."
    )

    class Meta:
        model = Moc
        fields = ["tag", "type", "search"]

    def filter_tag(self, queryset: QuerySet[Moc], name: str, value: str) -> QuerySet[Moc]:
        # Tags are stored lower-cased, so the filter is an exact jsonb containment (`@>`, GIN-indexed).
        return queryset.filter(tags__contains=[value.lower()])

    def filter_search(self, queryset: QuerySet[Moc], name: str, value: str) -> QuerySet[Moc]:
        # `search` is validated here but answered by `mocs.search.search_mocs` (the view routes it there).
        return queryset
