"""The OpenSearch client, the search-down switch and the generic index plumbing (SPEC §6.2): the registry of
indexes the apps provide, index creation with explicit mappings, bulk (re)indexing. The only code that builds
OpenSearch clients."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import islice

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
    forget_indexes()


def check_search() -> None:
    try:
        health = get_client().cluster.health(request_timeout=SEARCH_TIMEOUT)
    except Exception:
        forget_indexes()
        raise
    if health.get("status") not in ("green", "yellow"):
        raise RuntimeError(f"cluster status {health.get('status')}")


# --- Index registry: each app registers how its rows become documents (mocs, gallery, wishlist) ---------------


class SearchIndex:
    """What an app provides for one index: the mapping, a loader of documents by id and the ids of every row."""

    kind: str = ""
    mappings: dict = {}

    def documents(self, ids: list[str]) -> dict[str, dict]:
        """`{id: document}` for the rows that still exist."""
        raise NotImplementedError

    def all_ids(self) -> Iterable[str]:
        """Every row's id (for `reindex`); stream it, tables can be large."""
        raise NotImplementedError


_registry: dict[str, SearchIndex] = {}


def register(index: SearchIndex) -> None:
    _registry[index.kind] = index


def registered() -> dict[str, SearchIndex]:
    return dict(_registry)


# --- Index lifecycle --------------------------------------------------------------------------------------------

# (server URL, index name) pairs known to exist, so that writes and searches check at most once per process.
# Forgotten whenever a call to the server fails: an emptied or replaced server must not see a write before the
# index is created again, since OpenSearch would auto-create it with dynamic mappings (and `userId` would
# become analysed text, breaking the owner filter).
_ensured: set[tuple[str, str]] = set()


def forget_indexes() -> None:
    _ensured.clear()


def index_body(kind: str) -> dict:
    """Creation body: 1 shard, `OPENSEARCH_REPLICAS` replicas, the app's strict mappings."""
    return {
        "settings": {"index": {"number_of_shards": 1, "number_of_replicas": settings.OPENSEARCH_REPLICAS}},
        "mappings": _registry[kind].mappings,
    }


def ensure_index(kind: str) -> bool:
    """Create the kind's index with its mappings when it is missing; True when this call created it."""
    from opensearchpy.exceptions import RequestError

    name = index_name(kind)
    key = (settings.OPENSEARCH_URL, name)
    if key in _ensured:
        return False
    client = get_client()
    created = False
    if not client.indices.exists(index=name):
        try:
            client.indices.create(index=name, body=index_body(kind))
            created = True
        except RequestError as exc:
            if exc.error != "resource_already_exists_exception":  # another process won the race: fine
                raise
    _ensured.add(key)
    return created


def drop_index(kind: str) -> None:
    """Delete the kind's index (a missing one is fine)."""
    name = index_name(kind)
    _ensured.discard((settings.OPENSEARCH_URL, name))
    get_client().indices.delete(index=name, ignore=[404])


def _batches(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, size)):
        yield batch


def bulk_upsert(kind: str, ids: list[str], *, refresh: bool | str = False) -> tuple[int, list[dict]]:
    """Index the documents of `ids` and delete those whose rows are gone. Returns (documents indexed, errors);
    raises on transport errors. Deleting a document that is not there is not an error."""
    from opensearchpy.helpers import bulk

    documents = _registry[kind].documents(ids)
    name = index_name(kind)
    actions = [{"_op_type": "index", "_index": name, "_id": i, "_source": d} for i, d in documents.items()]
    actions += [{"_op_type": "delete", "_index": name, "_id": i} for i in ids if i not in documents]
    if not actions:
        return 0, []
    _, errors = bulk(get_client(), actions, raise_on_error=False, refresh=refresh)
    errors = [e for e in errors if not ("delete" in e and e["delete"].get("status") == 404)]
    return len(documents), errors


def reindex(
    kind: str, *, recreate: bool = False, batch_size: int = 500, progress: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Create the index if missing (drop it first with `recreate`), then index every row in batches.

    Returns (documents indexed, documents that failed). Transport errors raise. `progress(done)` after each batch.
    """
    if recreate:
        drop_index(kind)
    ensure_index(kind)
    done = failed = 0
    for batch in _batches(_registry[kind].all_ids(), batch_size):
        indexed, errors = bulk_upsert(kind, batch)
        done += indexed
        failed += len(errors)
        for error in errors[:5]:
            logger.warning("reindex: document rejected", extra={"kind": kind, "error": str(error)[:500]})
        if progress is not None:
            progress(done)
    get_client().indices.refresh(index=index_name(kind))
    return done, failed


def index_documents(kind: str, ids: list[str]) -> None:
    """Upsert by id; ids whose rows are gone are deleted from the index. Never raises (logged; reindex repairs)."""
    if not search_enabled() or not ids:
        return
    if kind not in _registry:
        logger.warning("search indexing skipped: no app provides this index", extra={"kind": kind})
        return
    try:
        ensure_index(kind)
        _, errors = bulk_upsert(kind, ids, refresh="wait_for" if _refresh_now() else False)
        if errors:
            logger.warning("search indexing rejected documents", extra={"kind": kind, "error": str(errors[0])[:500]})
    except Exception as exc:  # noqa: BLE001 - indexing never fails the request
        forget_indexes()
        logger.warning("search indexing failed", extra={"kind": kind, "errorType": type(exc).__name__})


def delete_document(kind: str, object_id: str) -> None:
    if not search_enabled():
        return
    try:
        get_client().delete(index=index_name(kind), id=object_id, ignore=[404], refresh=_refresh_now())
    except Exception as exc:  # noqa: BLE001
        forget_indexes()
        logger.warning("search delete failed", extra={"kind": kind, "errorType": type(exc).__name__})


def _refresh_now() -> bool:
    """Tests and inline runs want read-your-writes; deployed workers let the index refresh on its own."""
    from lego_api.core.tasks import runs_inline

    return runs_inline()
