"""Wishlist search (SPEC §6.2): the `wishlist` index definition (strict mapping, documents, the `category` filter)
and `search_wishlist`, which runs the core search skeleton on it (OpenSearch, else PostgreSQL full-text + trigram)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db.models import QuerySet

from lego_api.core import search as core_search
from lego_api.core.search import SearchResult
from wishlist.models import WishlistItem

KIND = "wishlist"


@lru_cache(maxsize=1)
def wishlist_document_class() -> type:
    """The index mapping as an opensearch-dsl Document, built on first use (opensearch-dsl stays off the cold start
    of requests that never search)."""
    from opensearch_dsl import Date, Document, Integer, Keyword, MetaField, Text

    class WishlistDocument(Document):
        """The `wishlist` index mapping (SPEC §6.2 table); field names are the API's camelCase."""

        id = Keyword()
        userId = Keyword()
        title = Text(analyzer="standard", fields={"keyword": Keyword()})
        description = Text(analyzer="standard")
        category = Text(analyzer="standard", fields={"keyword": Keyword()})
        sortOrder = Integer()
        createdAt = Date()
        updatedAt = Date()

        class Meta:
            dynamic = MetaField("strict")

    return WishlistDocument


class WishlistSearchIndex(core_search.SearchIndex):
    """Wishlist items; one filter, `category` (exact)."""

    kind = KIND
    model = WishlistItem
    search_fields = ("title", "description", "category")

    def document_class(self) -> type:
        return wishlist_document_class()

    def document(self, item: WishlistItem) -> dict:
        return {
            "id": str(item.id),
            "userId": item.user_id,
            "title": item.title,
            "description": item.description,
            "category": item.category,
            "sortOrder": item.sort_order,
            "createdAt": item.created_at.isoformat(),
            "updatedAt": item.updated_at.isoformat(),
        }

    def term_filters(self, filters: dict[str, Any]) -> dict[str, Any]:
        return {"category.keyword": filters.get("category")}

    def filter_rows(self, queryset: QuerySet[WishlistItem], filters: dict[str, Any]) -> QuerySet[WishlistItem]:
        if filters.get("category"):
            queryset = queryset.filter(category=filters["category"])
        return queryset


WISHLIST_INDEX = WishlistSearchIndex()


def search_wishlist(
    *, user_id: str, q: str, category: str | None = None, offset: int = 0, limit: int = 20
) -> SearchResult[WishlistItem]:
    """The caller's items matching `q` (and `category`, exact), by relevance, then `updatedAt` desc, then `id`;
    `[offset, offset+limit)`."""
    return core_search.search(
        WISHLIST_INDEX, user_id=user_id, q=q, filters={"category": category or None}, offset=offset, limit=limit
    )
