"""The `search_vector` column every searchable table keeps (SPEC §3.0): title (A), tags (B), description (C), with
the `english` configuration, computed by PostgreSQL in the UPDATE itself (no read of the row first)."""

from __future__ import annotations

from django.contrib.postgres.search import (
    CombinedSearchVector,
    SearchConfig,
    SearchVector,
    SearchVectorCombinable,
    SearchVectorField,
)
from django.db.models import F, Func, Value

CONFIG = "english"


class JsonbStringsVector(SearchVectorCombinable, Func):
    """The weighted tsvector of the strings of a jsonb array column (`tags`):
    `setweight(jsonb_to_tsvector('english', tags, '["string"]'), weight)`."""

    function = "setweight"
    output_field = SearchVectorField()

    def __init__(self, field: str, *, weight: str) -> None:
        strings = Func(
            SearchConfig(CONFIG),
            F(field),
            Value('["string"]'),
            function="jsonb_to_tsvector",
            output_field=SearchVectorField(),
        )
        super().__init__(strings, Value(weight))


def document_vector(
    *, title: str = "title", tags: str = "tags", description: str = "description"
) -> CombinedSearchVector:
    """`search_vector` of a row with a title, a jsonb `tags` array and a description, for
    `Model.objects.filter(pk=...).update(search_vector=document_vector())`."""
    return (
        SearchVector(title, weight="A", config=CONFIG)
        + JsonbStringsVector(tags, weight="B")
        + SearchVector(description, weight="C", config=CONFIG)
    )
