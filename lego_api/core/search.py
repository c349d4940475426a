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
