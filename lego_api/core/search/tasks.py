"""The search tasks (SPEC §7.3 table): enqueued after commit by every create, update and delete of an indexed row.
They live with search, so that the task helper (`lego_api.core.tasks`) knows nothing of search."""

from __future__ import annotations

from lego_api.core.search.index import delete_document, index_documents
from lego_api.core.tasks import task

MAX_IDS = 500  # the most ids one `search_index` call takes


@task
def search_index(kind: str, object_id: str | None = None, ids: list[str] | None = None) -> None:
    """Upsert documents by id into the kind's index (a missing row becomes a delete). Failures are logged."""
    index_documents(kind, [object_id] if object_id else list(ids or [])[:MAX_IDS])


@task
def search_delete(kind: str, object_id: str) -> None:
    """Delete one document; deleting a missing document is success."""
    delete_document(kind, object_id)
