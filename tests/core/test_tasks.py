"""The task helper (SPEC §7.3): `.delay()` runs after commit and never on rollback, inline mode logs and swallows a
failure, and `Task.path`/`Task.sync` are what Zappa's worker imports and calls. (Dispatching to Lambda is covered
with the Zappa packaging tests.)"""

from __future__ import annotations

import importlib
import logging

import pytest
from django.db import transaction
from zappa.asynchronous import get_func_task_path, import_and_get_task, route_lambda_task

from lego_api.core.tasks import Task, task
from tests import urls as test_urls
from tests.urls import record_task_run

# Every module that may define tasks; the ones not written yet are skipped.
TASK_MODULES = [
    "lego_api.core.tasks",
    "lego_api.core.search.tasks",
    "mocs.tasks",
    "gallery.tasks",
    "wishlist.tasks",
    "profiles.tasks",
]


@task
def explode(value: str) -> None:
    raise RuntimeError(f"task failed on purpose: {value}")


@pytest.fixture(autouse=True)
def task_runs():
    test_urls.TASK_RUNS.clear()
    yield test_urls.TASK_RUNS
    test_urls.TASK_RUNS.clear()


# --- After commit, never on rollback ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delay_runs_after_commit_not_before(api, owner, task_runs):
    response = api.post("/api/test/enqueue")
    assert response.status_code == 201
    assert response.json()["data"] == {"ranBeforeCommit": False}
    assert task_runs == [owner]


@pytest.mark.django_db(transaction=True)
def test_delay_does_not_run_when_the_transaction_rolls_back(task_runs):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_task_run.delay("rolled back")
        raise RuntimeError("the service failed after enqueueing")
    assert task_runs == []


@pytest.mark.django_db(transaction=True)
def test_delay_in_a_rolled_back_savepoint_is_dropped_but_the_outer_commit_runs_the_rest(task_runs):
    with transaction.atomic():
        record_task_run.delay("outer")
        try:
            with transaction.atomic():
                record_task_run.delay("inner")
                raise ValueError("inner block fails")
        except ValueError:
            pass
        assert task_runs == []
    assert task_runs == ["outer"]


@pytest.mark.django_db
def test_delay_registers_an_on_commit_callback_only(django_capture_on_commit_callbacks, task_runs):
    with django_capture_on_commit_callbacks() as callbacks:
        record_task_run.delay("later")
    assert len(callbacks) == 1
    assert task_runs == []
    callbacks[0]()
    assert task_runs == ["later"]


# --- Inline mode -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_inline_failure_is_logged_and_swallowed(django_capture_on_commit_callbacks, caplog, task_runs):
    with caplog.at_level(logging.ERROR, logger="lego_api.tasks"), django_capture_on_commit_callbacks(execute=True):
        explode.delay("first")
        record_task_run.delay("second")  # a failing task does not stop the callbacks after it

    assert task_runs == ["second"]
    [record] = [r for r in caplog.records if r.name == "lego_api.tasks"]
    assert record.levelno == logging.ERROR
    assert record.task == explode.path
    assert record.exc_info[0] is RuntimeError
    assert "task failed on purpose: first" in caplog.text


def test_direct_call_runs_now_and_raises():
    with pytest.raises(RuntimeError):
        explode("now")


# --- What Zappa's worker routes to -------------------------------------------------------------------------------------


def defined_tasks() -> list[Task]:
    found: dict[str, Task] = {}
    for name in TASK_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        found.update({value.path: value for value in vars(module).values() if isinstance(value, Task)})
    return list(found.values())


def test_task_path_is_the_path_zappa_computes_and_imports():
    assert record_task_run.path == "tests.urls.record_task_run"
    assert get_func_task_path(record_task_run.sync) == record_task_run.path
    assert import_and_get_task(record_task_run.path) is record_task_run


@pytest.mark.parametrize("defined", defined_tasks(), ids=lambda t: t.path)
def test_every_task_is_importable_by_its_zappa_path(defined):
    """A task bound to a different name than its function's would be dispatched to a path the worker cannot find."""
    assert get_func_task_path(defined.sync) == defined.path
    assert import_and_get_task(defined.path) is defined
    assert defined.__name__ == defined.sync.__name__ and defined.__doc__ == defined.sync.__doc__


@pytest.mark.django_db
def test_zappa_worker_runs_the_sync_function_right_away(task_runs):
    event = {"task_path": record_task_run.path, "args": ["from the worker"], "kwargs": {}}
    with transaction.atomic():
        route_lambda_task(event, None)
        assert task_runs == ["from the worker"]  # ran now, not re-enqueued for after commit
