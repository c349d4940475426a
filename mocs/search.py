"""MOC search (SPEC §6.2): the `mocs` OpenSearch index (mapping and documents) and `search_mocs`, which asks
OpenSearch and falls back to PostgreSQL full-text + trigram matching when the engine is off, down or failing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramSimilarity
from django.db import connection, transaction
from django.db.models import Count, F, FloatField, Q, QuerySet, Value, Window
from django.db.models.functions import Coalesce

from lego_api.core import metrics
from lego_api.core import search as core_search
from mocs.models import Moc

if TYPE_CHECKING:
    from opensearch_dsl import Search

KIND = "mocs"
TRIGRAM_THRESHOLD = 0.3
# OpenSearch refuses `from + size` beyond its result window (index.max_result_window, 10,000 by default). Such
# deep pages are answered by the database rather than turned into an engine error that would mark search down.
ENGINE_RESULT_WINDOW = 10_000
# PostgreSQL's OFFSET and LIMIT are bigints; a page starting beyond this is empty without asking the database.
SQL_MAX_OFFSET = 2**63 - 1

Backend = Literal["opensearch", "postgres"]


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


def moc_document(moc: Moc) -> dict:
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


class MocSearchIndex(core_search.SearchIndex):
    kind = KIND

    @property
    def mappings(self) -> dict:  # type: ignore[override]
        return moc_document_class()._doc_type.mapping.to_dict()

    def documents(self, ids: list[str]) -> dict[str, dict]:
        rows = Moc.objects.filter(pk__in=_valid_uuids(ids)).defer("search_vector")
        return {str(moc.id): moc_document(moc) for moc in rows}

    def all_ids(self) -> Iterable[str]:
        for pk in Moc.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2000):
            yield str(pk)


@dataclass(frozen=True)
class SearchResult:
    mocs: list[Moc]  # in rank order, all owned by the caller
    total: int
    backend: Backend


class EngineTimedOut(Exception):
    """The engine answered, but with `timed_out: true` (partial results): treated like any other failure."""


def search_mocs(
    *, user_id: str, q: str, moc_type: str | None = None, tag: str | None = None, offset: int = 0, limit: int = 20
) -> SearchResult:
    """The caller's MOCs matching `q`, by relevance, then `updatedAt` desc, then `id`; `[offset, offset+limit)`.

    A blank `q` has nothing to rank by: every MOC passing the filters, in M1's order, from the database.
    """
    q = q.strip()
    tag = tag.strip().lower() if tag else None
    if not q:
        return _list_postgres(user_id=user_id, moc_type=moc_type, tag=tag, offset=offset, limit=limit)
    metrics.emit("SearchesPerformed", 1, properties={"kind": KIND})
    if core_search.search_available() and offset + limit <= ENGINE_RESULT_WINDOW:
        try:
            hit_ids, total = _engine_search(
                user_id=user_id, q=q, moc_type=moc_type, tag=tag, offset=offset, limit=limit
            )
        except Exception as exc:  # noqa: BLE001 - any engine failure means "answer from the database" (SPEC §6.2)
            core_search.mark_search_down(exc)
            metrics.emit("SearchFallbacks", 1, properties={"kind": KIND, "reason": type(exc).__name__})
        else:
            return SearchResult(mocs=_load_in_order(user_id=user_id, ids=hit_ids), total=total, backend="opensearch")
    elif core_search.search_enabled():
        metrics.emit("SearchFallbacks", 1, properties={"kind": KIND, "reason": "unavailable"})
    return _search_postgres(user_id=user_id, q=q, moc_type=moc_type, tag=tag, offset=offset, limit=limit)


# --- OpenSearch ------------------------------------------------------------------------------------------------


def engine_query(*, user_id: str, q: str, moc_type: str | None, tag: str | None, offset: int, limit: int) -> Search:
    from opensearch_dsl import Q as EngineQ
    from opensearch_dsl import Search

    search = Search(index=core_search.index_name(KIND)).filter("term", userId=user_id)
    if moc_type:
        search = search.filter("term", type=moc_type)
    if tag:
        search = search.filter("term", **{"tags.keyword": tag})
    search = search.query(
        EngineQ(
            "multi_match",
            query=q,
            fields=["title^3", "description", "tags^2"],
            fuzziness="AUTO",
            type="best_fields",
            operator="or",
        )
    )
    search = search.sort({"_score": {"order": "desc"}}, {"updatedAt": {"order": "desc"}}, {"id": {"order": "asc"}})
    return search.extra(from_=offset, size=limit, track_total_hits=True, timeout=f"{core_search.SEARCH_TIMEOUT}s")


def _engine_search(
    *, user_id: str, q: str, moc_type: str | None, tag: str | None, offset: int, limit: int
) -> tuple[list[str], int]:
    core_search.ensure_index(KIND)
    search = engine_query(user_id=user_id, q=q, moc_type=moc_type, tag=tag, offset=offset, limit=limit)
    response = (
        search.using(core_search.get_client())
        .source(False)
        .params(request_timeout=core_search.SEARCH_TIMEOUT)
        .execute()
    )
    if response.timed_out:
        raise EngineTimedOut(f"search timed out after {core_search.SEARCH_TIMEOUT}s")
    return [hit.meta.id for hit in response], int(response.hits.total.value)


def _load_in_order(*, user_id: str, ids: list[str]) -> list[Moc]:
    """The hits' rows in hit order, scoped to the owner; ids gone from the database are dropped."""
    rows = Moc.objects.filter(user_id=user_id, pk__in=_valid_uuids(ids)).defer("search_vector")
    by_id = {str(moc.id): moc for moc in rows}
    return [by_id[i] for i in ids if i in by_id]


def _valid_uuids(ids: Iterable[str]) -> list[str]:
    valid = []
    for value in ids:
        try:
            valid.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return valid


# --- PostgreSQL fallback ---------------------------------------------------------------------------------------


def _owned(*, user_id: str, moc_type: str | None, tag: str | None) -> QuerySet[Moc]:
    queryset = Moc.objects.filter(user_id=user_id)
    if moc_type:
        queryset = queryset.filter(type=moc_type)
    if tag:
        queryset = queryset.filter(tags__contains=[tag])  # jsonb `@>`: the GIN index on tags applies
    return queryset


def _search_postgres(
    *, user_id: str, q: str, moc_type: str | None, tag: str | None, offset: int, limit: int
) -> SearchResult:
    """`search_vector @@ websearch_to_tsquery('english', q)` OR trigram similarity(title, q) >= 0.3.

    The trigram test is written `title % q` with `pg_trgm.similarity_threshold` set to 0.3 for the transaction:
    the same rows as `similarity() >= 0.3` (the operator compares with `>=`), but the trigram GIN index on
    title can answer it, which makes most searches several times faster (tests/perf/bench_search.py).
    """
    text_query = SearchQuery(q, search_type="websearch", config="english")
    matches = _owned(user_id=user_id, moc_type=moc_type, tag=tag).filter(
        Q(search_vector=text_query) | Q(title__trigram_similar=q)
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)])
        mocs, total = rank_and_page(
            matches,
            relevance=Coalesce(SearchRank(F("search_vector"), text_query), Value(0.0), output_field=FloatField())
            + TrigramSimilarity("title", q),
            offset=offset,
            limit=limit,
        )
    return SearchResult(mocs=mocs, total=total, backend="postgres")


def rank_and_page(matches: QuerySet[Moc], *, relevance, offset: int, limit: int) -> tuple[list[Moc], int]:
    """One page of `matches` by relevance desc, `updatedAt` desc, `id`, and the number of matches.

    The count rides on the page query as `COUNT(*) OVER ()`, computed before LIMIT/OFFSET, so the matching work
    is done once; only a page past the end (no row to carry it) needs a separate COUNT.
    """
    if offset + limit > SQL_MAX_OFFSET:
        return [], matches.count()
    page = list(
        matches.annotate(relevance=relevance, total_matches=Window(Count("pk")))
        .defer("search_vector")
        .order_by("-relevance", "-updated_at", "id")[offset : offset + limit]
    )
    if page:
        return page, page[0].total_matches
    return page, matches.count() if offset > 0 else 0


def _list_postgres(*, user_id: str, moc_type: str | None, tag: str | None, offset: int, limit: int) -> SearchResult:
    queryset = _owned(user_id=user_id, moc_type=moc_type, tag=tag)
    total = queryset.count()
    if offset >= total:  # a page past the end (the offset may be beyond what SQL takes)
        return SearchResult(mocs=[], total=total, backend="postgres")
    mocs = list(queryset.defer("search_vector").order_by("-updated_at", "id")[offset : offset + limit])
    return SearchResult(mocs=mocs, total=total, backend="postgres")
