"""The OpenSearch client and the search-down switch (SPEC §6.2 "Fallback"): whether the engine is configured and
not marked down, marking it down for 30 s after a failure, and the health check. The only code that builds
OpenSearch clients."""

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

    # One call costs at most its timeout: no retry multiplies it.
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
    forget_indexes()


def check_search() -> None:
    """Health (SPEC §7.1): raises unless the cluster answers green or yellow."""
    try:
        health = get_client().cluster.health(request_timeout=SEARCH_TIMEOUT)
    except Exception:
        forget_indexes()
        raise
    if health.get("status") not in ("green", "yellow"):
        raise RuntimeError(f"cluster status {health.get('status')}")


# (server URL, index name) pairs known to exist, so that writes and searches check at most once per process.
# Forgotten whenever a call to the server fails: an emptied or replaced server must not see a write before the
# index is created again, since OpenSearch would auto-create it with dynamic mappings (and `userId` would
# become analysed text, breaking the owner filter).
ensured_indexes: set[tuple[str, str]] = set()


def forget_indexes() -> None:
    ensured_indexes.clear()
