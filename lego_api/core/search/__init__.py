"""Search (SPEC §6.2): an app declares a `SearchIndex` (its documents and its rows) and registers it in
`AppConfig.ready()`; `search(index, user_id=..., q=..., filters=...)` answers from OpenSearch or, when the engine is
off, down or failing, from PostgreSQL, with the same `SearchResult(rows, total, backend)`.

- `client`: the OpenSearch client, the `search:down` switch, the health check;
- `index`: `SearchIndex`, the registry, index creation and (re)indexing;
- `query`: the search skeleton and the PostgreSQL fallback;
- `tasks`: `search_index` / `search_delete`, enqueued after commit.
"""

from lego_api.core.search.client import (
    SEARCH_DOWN_KEY,
    SEARCH_DOWN_SECONDS,
    SEARCH_TIMEOUT,
    check_search,
    forget_indexes,
    get_client,
    index_name,
    mark_search_down,
    search_available,
    search_enabled,
)
from lego_api.core.search.index import (
    SearchIndex,
    bulk_upsert,
    delete_document,
    drop_index,
    ensure_index,
    index_body,
    index_documents,
    register,
    registered,
    reindex,
)
from lego_api.core.search.query import (
    ENGINE_RESULT_WINDOW,
    EngineTimedOut,
    SearchResult,
    rank_and_page,
    search,
)

__all__ = [
    "ENGINE_RESULT_WINDOW",
    "SEARCH_DOWN_KEY",
    "SEARCH_DOWN_SECONDS",
    "SEARCH_TIMEOUT",
    "EngineTimedOut",
    "SearchIndex",
    "SearchResult",
    "bulk_upsert",
    "check_search",
    "delete_document",
    "drop_index",
    "ensure_index",
    "forget_indexes",
    "get_client",
    "index_body",
    "index_documents",
    "index_name",
    "mark_search_down",
    "rank_and_page",
    "register",
    "registered",
    "reindex",
    "search",
    "search_available",
    "search_enabled",
]
