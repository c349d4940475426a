"""MOC search (SPEC §6.2): the `mocs` index definition (mapping, documents, filters) and `search_mocs`, which
runs the core search skeleton on it (OpenSearch, else PostgreSQL full-text + trigram matching)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db.models import QuerySet

from lego_api.core import search as core_search
from lego_api.core.search import SearchResult
from mocs.models import Moc

KIND = "mocs"


@lru_cache(maxsize=1)
def moc_document_class() -> type:
    """The index mapping as an opensearch-dsl Document, built on first use: opensearch-dsl is imported only when
    the engine is, which keeps it off the cold start of requests that never search (SPEC §6.2 table)."""
    from opensearch_dsl import Date, Document, Integer, Keyword, MetaField, Text

    class MocDocument(Document):
        """The `mocs` index mapping (SPEC §6.2 table); field names are the API's camelCase."""

        id = Keyword()
        userId = Keyword()
        type = Keyword()
        theme = Keyword()
        subtheme = Keyword()
        setNumber = Keyword()
        title = Text(analyzer="standard", fields={"keyword": Keyword()})
        description = Text(analyzer="standard")
        author = Text(analyzer="standard")
        brand = Text(analyzer="standard")
        tags = Text(analyzer="standard", fields={"keyword": Keyword()})
        partsCount = Integer()
        totalPieceCount = Integer()
        createdAt = Date()
        updatedAt = Date()

        class Meta:
            dynamic = MetaField("strict")

    return MocDocument


def __getattr__(name: str) -> Any:
    if name == "MocDocument":
        return moc_document_class()
    raise AttributeError(name)


class MocSearchIndex(core_search.SearchIndex):
    """MOCs and sets; filters `type` (`moc`|`set`) and `tag` (lower-cased)."""

    kind = KIND
    model = Moc
    search_fields = ("title^3", "description", "tags^2")

    def document_class(self) -> type:
        return moc_document_class()

    def document(self, moc: Moc) -> dict:
        return {
            "id": str(moc.id),
            "userId": moc.user_id,
            "type": moc.type,
            "theme": moc.theme,
            "subtheme": moc.subtheme,
            "setNumber": moc.set_number,
            "title": moc.title,
            "description": moc.description,
            "author": moc.author,
            "brand": moc.brand,
            "tags": list(moc.tags or []),
            "partsCount": moc.parts_count,
            "totalPieceCount": moc.total_piece_count,
            "createdAt": moc.created_at.isoformat(),
            "updatedAt": moc.updated_at.isoformat(),
        }

    def term_filters(self, filters: dict[str, Any]) -> dict[str, Any]:
        return {"type": filters.get("type"), "tags.keyword": filters.get("tag")}

    def filter_rows(self, queryset: QuerySet[Moc], filters: dict[str, Any]) -> QuerySet[Moc]:
        if filters.get("type"):
            queryset = queryset.filter(type=filters["type"])
        if filters.get("tag"):
            queryset = queryset.filter(tags__contains=[filters["tag"]])  # jsonb `@>`: the GIN index on tags applies
        return queryset


MOC_INDEX = MocSearchIndex()


def search_mocs(
    *, user_id: str, q: str, moc_type: str | None = None, tag: str | None = None, offset: int = 0, limit: int = 20
) -> SearchResult[Moc]:
    """The caller's MOCs matching `q`, by relevance, then `updatedAt` desc, then `id`; `[offset, offset+limit)`.

    A blank `q` has nothing to rank by: every MOC passing the filters, in M1's order, from the database.
    """
    q = q.strip()
    filters = {"type": moc_type or None, "tag": tag.strip().lower() if tag else None}
    if not q:
        return _list_postgres(user_id=user_id, filters=filters, offset=offset, limit=limit)
    return core_search.search(MOC_INDEX, user_id=user_id, q=q, filters=filters, offset=offset, limit=limit)


def _list_postgres(*, user_id: str, filters: dict[str, Any], offset: int, limit: int) -> SearchResult[Moc]:
    queryset = MOC_INDEX.owned(user_id=user_id, filters=filters)
    total = queryset.count()
    if offset >= total:  # a page past the end (the offset may be beyond what SQL takes)
        return SearchResult(rows=[], total=total, backend="postgres")
    mocs = list(queryset.order_by("-updated_at", "id")[offset : offset + limit])
    return SearchResult(rows=mocs, total=total, backend="postgres")
