"""What an app declares for one search index (SPEC §6.2), the registry the apps fill in `AppConfig.ready()`, and
the index lifecycle: creation with the explicit mappings, bulk (re)indexing, upserts and deletes after commit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet

from lego_api.core.runtime import runs_inline
from lego_api.core.search.client import ensured_indexes, forget_indexes, get_client, index_name, search_enabled

logger = logging.getLogger("lego_api.search")


class SearchIndex:
    """One index: its documents (engine side) and its rows (database side). A subclass declares

    - `kind` (the index is `{OPENSEARCH_INDEX_PREFIX}-{kind}`) and `model`, whose rows have `user_id`, `title`,
      `search_vector` and `updated_field`;
    - `document_class()`: the opensearch-dsl `Document` whose mapping the index is created with (built on first
      use, so that opensearch-dsl stays off the cold start of requests that never search);
    - `document(row)`: the row as a document;
    - `search_fields`: the `multi_match` fields, with boosts;
    - `term_filters(filters)` and `filter_rows(queryset, filters)`: the route's filters, for each backend.

    The search skeleton (`lego_api.core.search.query.search`) does the rest: owner scoping, the engine query, the
    PostgreSQL fallback and its ranking, loading hits in order.
    """

    kind: str = ""
    model: type[Model]
    search_fields: tuple[str, ...]
    title_field = "title"
    search_vector_field = "search_vector"
    updated_field = "updated_at"  # the row field behind the document's `updatedAt` (images: `last_updated_at`)

    def document_class(self) -> type:
        raise NotImplementedError

    def document(self, row: Any) -> dict:
        raise NotImplementedError

    def term_filters(self, filters: dict[str, Any]) -> dict[str, Any]:
        """`{document field: value}`, one `term` filter each; a None value is no filter."""
        return {}

    def filter_rows(self, queryset: QuerySet, filters: dict[str, Any]) -> QuerySet:
        """The same filters on the database rows."""
        return queryset

    @property
    def mappings(self) -> dict:
        return self.document_class()._doc_type.mapping.to_dict()

    def rows(self) -> QuerySet:
        """Every row, without the search vector (only the database fallback reads it, in SQL)."""
        return self.model._default_manager.defer(self.search_vector_field)

    def owned(self, *, user_id: str, filters: dict[str, Any]) -> QuerySet:
        return self.filter_rows(self.rows().filter(user_id=user_id), filters)

    def load_in_order(self, *, user_id: str, ids: list[str]) -> list[Any]:
        """The hits' rows in hit order, scoped to the owner; ids gone from the database are dropped."""
        by_id = {str(row.pk): row for row in self.rows().filter(user_id=user_id, pk__in=valid_uuids(ids))}
        return [by_id[i] for i in ids if i in by_id]

    def documents(self, ids: list[str]) -> dict[str, dict]:
        """`{id: document}` for the rows that still exist."""
        return {str(row.pk): self.document(row) for row in self.rows().filter(pk__in=valid_uuids(ids))}

    def all_ids(self) -> Iterable[str]:
        """Every row's id (for `reindex`), streamed: tables can be large."""
        for pk in self.rows().order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2000):
            yield str(pk)


def valid_uuids(ids: Iterable[str]) -> list[str]:
    valid = []
    for value in ids:
        try:
            valid.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return valid


_registry: dict[str, SearchIndex] = {}


def register(index: SearchIndex) -> None:
    _registry[index.kind] = index


def registered() -> dict[str, SearchIndex]:
    return dict(_registry)


def _resolve(index: SearchIndex | str) -> SearchIndex:
    return index if isinstance(index, SearchIndex) else _registry[index]


# --- Index lifecycle --------------------------------------------------------------------------------------------


def index_body(index: SearchIndex | str) -> dict:
    """Creation body: 1 shard, `OPENSEARCH_REPLICAS` replicas, the index's strict mappings."""
    return {
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": settings.OPENSEARCH_REPLICAS}},
        "mappings": _resolve(index).mappings,
    }


def ensure_index(index: SearchIndex | str) -> bool:
    """Create the index with its mappings when it is missing; True when this call created it."""
    from opensearchpy.exceptions import RequestError

    index = _resolve(index)
    name = index_name(index.kind)
    key = (settings.OPENSEARCH_URL, name)
    if key in ensured_indexes:
        return False
    client = get_client()
    created = False
    if not client.indices.exists(index=name):
        try:
            client.indices.create(index=name, body=index_body(index))
            created = True
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":  # another process won the race: fine
                raise
    ensured_indexes.add(key)
    return created


def drop_index(index: SearchIndex | str) -> None:
    """Delete the index (a missing one is fine)."""
    name = index_name(_resolve(index).kind)
    ensured_indexes.discard((settings.OPENSEARCH_URL, name))
    get_client().indices.delete(index=name, ignore=[404])


def _batches(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, size)):
        yield batch


def bulk_upsert(index: SearchIndex | str, ids: list[str], *, refresh: bool | str = False) -> tuple[int, list[dict]]:
    """Index the documents of `ids` and delete those whose rows are gone. Returns (documents indexed, errors);
    raises on transport errors. Deleting a document that is not there is not an error."""
    from opensearchpy.helpers import bulk

    index = _resolve(index)
    documents = index.documents(ids)
    name = index_name(index.kind)
    actions = [{"_op_type": "index", "_index": name, "_id": i, "_source": d} for i, d in documents.items()]
    actions += [{"_op_type": "delete", "_index": name, "_id": i} for i in ids if i not in documents]
    if not actions:
        return 0, []
    _, errors = bulk(get_client(), actions, raise_on_error=False, refresh=refresh)
    errors = [e for e in errors if not ("delete" in e and e["delete"].get("status") == 404)]
    return len(documents), errors


def reindex(
    index: SearchIndex | str,
    *,
    recreate: bool = False,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Create the index if missing (drop it first with `recreate`), then index every row in batches.

    Returns (documents indexed, documents that failed). Transport errors raise. `progress(done)` after each batch.
    """
    index = _resolve(index)
    if recreate:
        drop_index(index)
    ensure_index(index)
    done = failed = 0
    for batch in _batches(index.all_ids(), batch_size):
        indexed, errors = bulk_upsert(index, batch)
        done += indexed
        failed += len(errors)
        for error in errors[:5]:
            logger.warning("reindex: document rejected", extra={"kind": index.kind, "error": str(error)[:500]})
        if progress is not None:
            progress(done)
    get_client().indices.refresh(index=index_name(index.kind))
    return done, failed


def index_documents(kind: str, ids: list[str]) -> None:
    """Upsert by id; ids whose rows are gone are deleted from the index. Never raises (logged; reindex repairs).

    Inline runs (tests, local) wait for the refresh, for read-your-writes; deployed workers let the index refresh
    on its own."""
    if not search_enabled() or not ids:
        return
    if kind not in _registry:
        logger.warning("search indexing skipped: no app provides this index", extra={"kind": kind})
        return
    try:
        ensure_index(kind)
        _, errors = bulk_upsert(kind, ids, refresh="wait_for" if runs_inline() else False)
        if errors:
            logger.warning("search indexing rejected documents", extra={"kind": kind, "error": str(errors[0])[:500]})
    except Exception as exc:  # noqa: BLE001 - indexing never fails the request
        forget_indexes()
        logger.warning("search indexing failed", extra={"kind": kind, "errorType": type(exc).__name__})


def delete_document(kind: str, object_id: str) -> None:
    """Delete one document; a missing one is fine. Never raises (logged; reindex repairs)."""
    if not search_enabled():
        return
    try:
        get_client().delete(index=index_name(kind), id=object_id, ignore=[404], refresh=runs_inline())
    except Exception as exc:  # noqa: BLE001
        forget_indexes()
        logger.warning("search delete failed", extra={"kind": kind, "errorType": type(exc).__name__})
