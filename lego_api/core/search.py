"""The OpenSearch client and the search-down switch (SPEC §6.2). The only code that builds OpenSearch clients."""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("lego_api.search")

SEARCH_DOWN_KEY = "search:down"
SEARCH_DOWN_SECONDS = 30
SEARCH_TIMEOUT = 2


def search_enabled() -> bool:
    return bool(settings.OPENSEARCH_URL)


@lru_cache(maxsize=4)
def _client_for(url: str):
    from opensearchpy import OpenSearch

    return OpenSearch(hosts=[url], timeout=SEARCH_TIMEOUT, max_retries=0, retry_on_timeout=False)


def get_client():
    return _client_for(settings.OPENSEARCH_URL)


def index_name(kind: str) -> str:
    return f"{settings.OPENSEARCH_INDEX_PREFIX}-{kind}"


def search_available() -> bool:
    """OpenSearch is configured and not marked down by a recent failure."""
    return search_enabled() and not cache.get(SEARCH_DOWN_KEY)


def mark_search_down(exc: BaseException) -> None:
    logger.warning("search failed; using the database fallback", extra={"errorType": type(exc).__name__})
    cache.set(SEARCH_DOWN_KEY, 1, SEARCH_DOWN_SECONDS)


def check_search() -> None:
    health = get_client().cluster.health(request_timeout=SEARCH_TIMEOUT)
    if health.get("status") not in ("green", "yellow"):
        raise RuntimeError(f"cluster status {health.get('status')}")


# --- Index registry: each app registers how its rows become documents (mocs, gallery, wishlist) ---------------


class SearchIndex:
    """What an app provides for one index: the mapping and a loader of documents by id."""

    kind: str = ""
    mappings: dict = {}

    def documents(self, ids: list[str]) -> dict[str, dict]:
        """`{id: document}` for the rows that still exist."""
        raise NotImplementedError


_registry: dict[str, SearchIndex] = {}


def register(index: SearchIndex) -> None:
    _registry[index.kind] = index


def registered() -> dict[str, SearchIndex]:
    return dict(_registry)


def index_documents(kind: str, ids: list[str]) -> None:
    """Upsert by id; ids whose rows are gone are deleted from the index. Never raises (logged; reindex repairs)."""
    if not search_enabled() or not ids:
        return
    try:
        from opensearchpy.helpers import bulk

        documents = _registry[kind].documents(ids)
        actions = [
            {"_op_type": "index", "_index": index_name(kind), "_id": i, "_source": d} for i, d in documents.items()
        ]
        actions += [{"_op_type": "delete", "_index": index_name(kind), "_id": i} for i in ids if i not in documents]
        bulk(get_client(), actions, raise_on_error=False, refresh="wait_for" if _refresh_now() else False)
    except Exception as exc:  # noqa: BLE001 - indexing never fails the request
        logger.warning("search indexing failed", extra={"kind": kind, "errorType": type(exc).__name__})


def delete_document(kind: str, object_id: str) -> None:
    if not search_enabled():
        return
    try:
        get_client().delete(index=index_name(kind), id=object_id, ignore=[404], refresh=_refresh_now())
    except Exception as exc:  # noqa: BLE001
        logger.warning("search delete failed", extra={"kind": kind, "errorType": type(exc).__name__})


def _refresh_now() -> bool:
    """Tests and inline runs want read-your-writes; deployed workers let the index refresh on its own."""
    from lego_api.core.tasks import runs_inline

    return runs_inline()
