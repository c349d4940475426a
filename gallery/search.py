"""Gallery search (SPEC §6.2): the `gallery` index of images (mapping, documents, filters) and `search_images`, which
runs the core search skeleton on it (OpenSearch, else PostgreSQL full-text + trigram matching). Albums are never
indexed: G9 and G14 search them in the database."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db.models import QuerySet

from gallery.models import GalleryImage
from lego_api.core import search as core_search
from lego_api.core.search import SearchResult

KIND = "gallery"


@lru_cache(maxsize=1)
def image_document_class() -> type:
    """The index mapping as an opensearch-dsl Document, built on first use (opensearch-dsl stays off the cold start
    of requests that never search)."""
    from opensearch_dsl import Boolean, Date, Document, Keyword, MetaField, Text

    class GalleryImageDocument(Document):
        """The `gallery` index mapping (SPEC §6.2 table); field names are the API's camelCase."""

        id = Keyword()
        userId = Keyword()
        albumId = Keyword()
        title = Text(analyzer="standard", fields={"keyword": Keyword()})
        description = Text(analyzer="standard")
        tags = Text(analyzer="standard", fields={"keyword": Keyword()})
        flagged = Boolean()
        createdAt = Date()
        updatedAt = Date()

        class Meta:
            dynamic = MetaField("strict")

    return GalleryImageDocument


class GallerySearchIndex(core_search.SearchIndex):
    """Gallery images; filters `albumId`, `tag` (lower-cased) and `flagged`."""

    kind = KIND
    model = GalleryImage
    search_fields = ("title", "description", "tags")
    updated_field = "last_updated_at"

    def document_class(self) -> type:
        return image_document_class()

    def document(self, image: GalleryImage) -> dict:
        return {
            "id": str(image.id),
            "userId": image.user_id,
            "albumId": str(image.album_id) if image.album_id else None,
            "title": image.title,
            "description": image.description,
            "tags": list(image.tags or []),
            "flagged": image.flagged,
            "createdAt": image.created_at.isoformat(),
            "updatedAt": image.last_updated_at.isoformat(),
        }

    def term_filters(self, filters: dict[str, Any]) -> dict[str, Any]:
        album_id = filters.get("album_id")
        return {
            "albumId": str(album_id) if album_id else None,
            "tags.keyword": filters.get("tag"),
            "flagged": filters.get("flagged"),
        }

    def filter_rows(self, queryset: QuerySet[GalleryImage], filters: dict[str, Any]) -> QuerySet[GalleryImage]:
        if filters.get("album_id"):
            queryset = queryset.filter(album_id=filters["album_id"])
        if filters.get("tag"):
            queryset = queryset.filter(tags__contains=[filters["tag"]])
        if filters.get("flagged") is not None:
            queryset = queryset.filter(flagged=filters["flagged"])
        return queryset


GALLERY_INDEX = GallerySearchIndex()


def search_images(
    *,
    user_id: str,
    q: str,
    album_id: Any = None,
    tag: str | None = None,
    flagged: bool | None = None,
    offset: int = 0,
    limit: int = 20,
) -> SearchResult[GalleryImage]:
    """The caller's images matching `q` and the filters, by relevance, then `lastUpdatedAt` desc, then `id`;
    `[offset, offset+limit)`."""
    filters = {"album_id": album_id, "tag": tag.strip().lower() if tag else None, "flagged": flagged}
    return core_search.search(GALLERY_INDEX, user_id=user_id, q=q.strip(), filters=filters, offset=offset, limit=limit)
