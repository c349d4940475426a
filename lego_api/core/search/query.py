"""The search skeleton (SPEC §6.2), the same for every index: ask OpenSearch when it is available; when it is not
configured, marked down, or fails or times out (which marks it down), answer from PostgreSQL with the same shape and
the same kind of total. Engine hits are loaded from the database in hit order, scoped to the owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Q, QuerySet, Value, Window
from django.db.models.functions import Coalesce

from lego_api.core import metrics
from lego_api.core.search.client import (
    SEARCH_TIMEOUT,
    get_client,
    index_name,
    mark_search_down,
    search_available,
    search_enabled,
)
from lego_api.core.search.index import SearchIndex, ensure_index

if TYPE_CHECKING:
    from opensearch_dsl import Search

TRIGRAM_THRESHOLD = 0.3
# OpenSearch refuses `from + size` beyond its result window (index.max_result_window, 10,000 by default). Such
# deep pages are answered by the database rather than turned into an engine error that would mark search down.
ENGINE_RESULT_WINDOW = 10_000
# PostgreSQL's OFFSET and LIMIT are bigints; a page starting beyond this is empty without asking the database.
SQL_MAX_OFFSET = 2**63 - 1

Backend = Literal["opensearch", "postgres"]


@dataclass(frozen=True)
class SearchResult[Row]:
    rows: list[Row]  # in rank order, all owned by the caller
    total: int
    backend: Backend


class EngineTimedOut(Exception):
    """The engine answered, but with `timed_out: true` (partial results): treated like any other failure."""


def search(
    index: SearchIndex,
    *,
    user_id: str,
    q: str,
    filters: dict[str, Any] | None = None,
    offset: int = 0,
    limit: int = 20,
) -> SearchResult:
    """The caller's rows matching `q`, by relevance, then `updatedAt` desc, then `id`; `[offset, offset+limit)`.

    `filters` go to the index's `term_filters` (engine) or `filter_rows` (database). `total` is the engine's count
    or the database's `COUNT(*)` of the matches; pages past the engine's result window come from the database.
    """
    filters = filters or {}
    metrics.emit("SearchesPerformed", 1, properties={"kind": index.kind})
    if search_available() and offset + limit <= ENGINE_RESULT_WINDOW:
        try:
            hit_ids, total = engine_hits(index, user_id=user_id, q=q, filters=filters, offset=offset, limit=limit)
        except Exception as exc:  # noqa: BLE001 - any engine failure means "answer from the database" (SPEC §6.2)
            mark_search_down(exc)
            metrics.emit("SearchFallbacks", 1, properties={"kind": index.kind, "reason": type(exc).__name__})
        else:
            rows = index.load_in_order(user_id=user_id, ids=hit_ids)
            return SearchResult(rows=rows, total=total, backend="opensearch")
    elif search_enabled():
        metrics.emit("SearchFallbacks", 1, properties={"kind": index.kind, "reason": "unavailable"})
    return database_search(index, user_id=user_id, q=q, filters=filters, offset=offset, limit=limit)


# --- OpenSearch ------------------------------------------------------------------------------------------------


def engine_query(
    index: SearchIndex, *, user_id: str, q: str, filters: dict[str, Any], offset: int, limit: int
) -> Search:
    """`bool.filter` on the owner and the route's terms, `multi_match` over the index's fields, the SPEC sort."""
    from opensearch_dsl import Q as EngineQ
    from opensearch_dsl import Search

    search = Search(index=index_name(index.kind)).filter("term", userId=user_id)
    for field, value in index.term_filters(filters).items():
        if value is not None:
            search = search.filter("term", **{field: value})
    search = search.query(
        EngineQ(
            "multi_match",
            query=q,
            fields=list(index.search_fields),
            fuzziness="AUTO",
            type="best_fields",
            operator="or",
        )
    )
    search = search.sort({"_score": {"order": "desc"}}, {"updatedAt": {"order": "desc"}}, {"id": {"order": "asc"}})
    return search.extra(from_=offset, size=limit, track_total_hits=True, timeout=f"{SEARCH_TIMEOUT}s")


def engine_hits(
    index: SearchIndex, *, user_id: str, q: str, filters: dict[str, Any], offset: int, limit: int
) -> tuple[list[str], int]:
    """The page's hit ids in rank order and the engine's total; raises on any failure, a timeout included."""
    ensure_index(index)
    query = engine_query(index, user_id=user_id, q=q, filters=filters, offset=offset, limit=limit)
    response = query.using(get_client()).source(False).params(request_timeout=SEARCH_TIMEOUT).execute()
    if response.timed_out:
        raise EngineTimedOut(f"search timed out after {SEARCH_TIMEOUT}s")
    return [hit.meta.id for hit in response], int(response.hits.total.value)


# --- PostgreSQL fallback ---------------------------------------------------------------------------------------


def database_search(
    index: SearchIndex, *, user_id: str, q: str, filters: dict[str, Any], offset: int, limit: int
) -> SearchResult:
    """`search_vector @@ websearch_to_tsquery('english', q)` OR trigram similarity(title, q) >= 0.3, ranked by
    `ts_rank + similarity`.

    The trigram test is written `title % q` with `pg_trgm.similarity_threshold` set to 0.3 for the transaction:
    the same rows as `similarity() >= 0.3` (the operator compares with `>=`), but the trigram GIN index on
    title can answer it, which makes most searches several times faster (tests/perf/bench_search.py).
    """
    text_query = SearchQuery(q, search_type="websearch", config="english")
    vector, title = index.search_vector_field, index.title_field
    matches = index.owned(user_id=user_id, filters=filters).filter(
        Q(**{vector: text_query}) | Q(**{f"{title}__trigram_similar": q})
    )
    relevance = Coalesce(SearchRank(F(vector), text_query), Value(0.0), output_field=FloatField())
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)])
        rows, total = rank_and_page(
            matches,
            relevance=relevance + TrigramSimilarity(title, q),
            updated_field=index.updated_field,
            offset=offset,
            limit=limit,
        )
    return SearchResult(rows=rows, total=total, backend="postgres")


def rank_and_page(
    matches: QuerySet, *, relevance, offset: int, limit: int, updated_field: str = "updated_at"
) -> tuple[list[Any], int]:
    """One page of `matches` by relevance desc, `updated_field` desc, `id`, and the number of matches.

    The count rides on the page query as `COUNT(*) OVER ()`, computed before LIMIT/OFFSET, so the matching work
    is done once; only a page past the end (no row to carry it) needs a separate COUNT.
    """
    if offset + limit > SQL_MAX_OFFSET:
        return [], matches.count()
    page = list(
        matches.annotate(relevance=relevance, total_matches=Window(Count("pk"))).order_by(
            "-relevance", f"-{updated_field}", "id"
        )[offset : offset + limit]
    )
    if page:
        return page, page[0].total_matches
    return page, matches.count() if offset > 0 else 0
