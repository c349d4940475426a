"""Task helper (SPEC §7.3): `@task` functions are enqueued after commit and run inline off Lambda (or with
TASKS_EAGER), or as an asynchronous Lambda invocation of the worker function (TASKS_WORKER_FUNCTION, the `*-worker`
stage) through `zappa.asynchronous`, whose handler routes the event back to the task's `.sync`.

Arguments must be JSON-serialisable and the invocation payload at most 256,000 bytes (Lambda's asynchronous limit as
Zappa counts it); `.delay()` checks both at the call site, in every mode, so a bad call fails in local tests too.
Lambda retries a failed asynchronous invocation twice, so every task must be idempotent.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction

from lego_api.core.runtime import runs_inline

logger = logging.getLogger("lego_api.tasks")

# zappa.asynchronous.LAMBDA_ASYNC_PAYLOAD_LIMIT (not imported: that module makes four boto3 clients on import).
PAYLOAD_LIMIT = 256_000


class TaskPayloadError(ValueError):
    """A task's arguments cannot be sent to the worker (not JSON-serialisable, or too large)."""


@functools.cache
def lambda_client() -> Any:
    """One Lambda client per process (making one costs tens of milliseconds)."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
    return boto3.session.Session().client("lambda", region_name=settings.AWS_REGION, config=config)


class _LambdaSession:
    """What zappa's LambdaAsyncResponse takes as `boto_session`: something whose `.client("lambda")` it calls."""

    def client(self, service_name: str) -> Any:
        assert service_name == "lambda", service_name
        return lambda_client()


def worker_function() -> str:
    return settings.TASKS_WORKER_FUNCTION or os.environ["AWS_LAMBDA_FUNCTION_NAME"]


class Task:
    """A task function. Call it directly to run now; `.delay(...)` to enqueue after the current commit.

    Zappa's worker routes `{"task_path": "app.tasks.name", ...}` events to `.sync`, so a task module's attribute
    must expose it. A scheduled event calls the attribute itself with as many of (event, context) as the
    function's signature takes, hence `__signature__`.
    """

    def __init__(self, func: Callable[..., Any]):
        functools.update_wrapper(self, func)
        self.sync = func
        self.path = f"{func.__module__}.{func.__name__}"
        self.__signature__ = inspect.signature(func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.sync(*args, **kwargs)

    def delay(self, *args: Any) -> None:
        self.payload(args)  # fail here, at the call site, rather than after the commit
        transaction.on_commit(functools.partial(self.dispatch, *args))

    def payload(self, args: tuple[Any, ...] | list[Any]) -> str:
        """The JSON that zappa.asynchronous sends for these arguments (same keys, same order), checked."""
        message = {
            "task_path": self.path,
            "capture_response": False,
            "response_id": None,
            "args": list(args),
            "kwargs": {},
            "command": "zappa.asynchronous.route_lambda_task",
        }
        try:
            payload = json.dumps(message)
        except (TypeError, ValueError) as exc:
            raise TaskPayloadError(f"task {self.path}: arguments must be JSON-serialisable ({exc})") from exc
        if len(payload) > PAYLOAD_LIMIT:
            raise TaskPayloadError(
                f"task {self.path}: payload is {len(payload)} bytes, over the {PAYLOAD_LIMIT}-byte asynchronous "
                "invocation limit; pass ids and load rows in the task"
            )
        return payload

    def dispatch(self, *args: Any) -> None:
        if runs_inline():
            try:
                self.sync(*args)
            except Exception:
                logger.exception("task failed", extra={"task": self.path})
            return
        self.payload(args)
        from zappa.asynchronous import run

        function = worker_function()
        try:
            run(
                self.sync,
                args=list(args),
                remote_aws_lambda_function_name=function,
                remote_aws_region=settings.AWS_REGION,
                boto_session=_LambdaSession(),
            )
        except Exception:
            # The transaction has committed: answering 500 would not undo it. What a lost task leaves behind is
            # repaired later (the sweeper re-queues stuck parts lists; `reindex` repairs the search index).
            logger.exception("task dispatch failed", extra={"task": self.path, "function": function})


def task(func: Callable[..., Any]) -> Task:
    return Task(func)


# --- Core tasks (SPEC §7.3 table; the search tasks are lego_api.core.search.tasks) ------------------------------


@task
def delete_storage_objects(keys: list[str]) -> None:
    """Delete stored objects (at most 1000 keys a call; a missing object is success)."""
    from lego_api.core import storage

    keys = [k for k in keys if k]
    for start in range(0, len(keys), 1000):
        storage.delete_keys(keys[start : start + 1000])
