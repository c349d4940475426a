"""Task helper (SPEC §7.3): `@task` functions are enqueued after commit and run inline off Lambda (or with
TASKS_EAGER), or as an asynchronous Lambda invocation of the worker function through Zappa."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger("lego_api.tasks")


def on_lambda() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def runs_inline() -> bool:
    return settings.TASKS_EAGER or not on_lambda()


class Task:
    """A task function. Call it directly to run now; `.delay(...)` to enqueue after the current commit.

    Zappa's worker routes `{"task_path": "app.tasks.name", ...}` events to `.sync`, so a task module's attribute
    must expose it.
    """

    def __init__(self, func: Callable[..., Any]):
        functools.update_wrapper(self, func)
        self.sync = func
        self.path = f"{func.__module__}.{func.__name__}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.sync(*args, **kwargs)

    def delay(self, *args: Any) -> None:
        transaction.on_commit(functools.partial(self.dispatch, *args))

    def dispatch(self, *args: Any) -> None:
        if runs_inline():
            try:
                self.sync(*args)
            except Exception:
                logger.exception("task failed", extra={"task": self.path})
            return
        from zappa.asynchronous import run

        run(
            self.sync,
            args=list(args),
            remote_aws_lambda_function_name=settings.TASKS_WORKER_FUNCTION or os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            remote_aws_region=settings.AWS_REGION,
        )


def task(func: Callable[..., Any]) -> Task:
    return Task(func)


# --- Core tasks (SPEC §7.3 table) ---------------------------------------------------------------------------------


@task
def delete_storage_objects(keys: list[str]) -> None:
    """Delete stored objects (at most 1000 keys a call; a missing object is success)."""
    from lego_api.core import storage

    keys = [k for k in keys if k]
    for start in range(0, len(keys), 1000):
        storage.delete_keys(keys[start : start + 1000])


@task
def search_index(kind: str, object_id: str | None = None, ids: list[str] | None = None) -> None:
    """Upsert documents by id into the kind's index (a missing row becomes a delete). Failures are logged."""
    from lego_api.core import search

    search.index_documents(kind, [object_id] if object_id else list(ids or [])[:500])


@task
def search_delete(kind: str, object_id: str) -> None:
    """Delete one document; deleting a missing document is success."""
    from lego_api.core import search

    search.delete_document(kind, object_id)
