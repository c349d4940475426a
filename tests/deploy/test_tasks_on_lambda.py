"""Task dispatch on Lambda: an asynchronous invocation of the worker function through zappa.asynchronous, with
only the Lambda client stubbed (botocore Stubber); off Lambda the same call runs inline."""

from __future__ import annotations

import inspect
import json
import logging
import uuid

import pytest
from botocore.stub import Stubber
from zappa.handler import LambdaHandler

from lego_api.core import tasks
from lego_api.core.tasks import TaskPayloadError
from tests.urls import TASK_RUNS, record_task_run


@pytest.fixture
def on_lambda(monkeypatch, settings):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "lego-api-dev")
    settings.TASKS_EAGER = False
    settings.TASKS_WORKER_FUNCTION = "lego-api-dev-worker"


@pytest.fixture
def lambda_stub():
    """Stubs the one Lambda client the task helper hands to zappa; records what was sent."""
    client = tasks.lambda_client()
    sent: list[dict] = []

    def record(params, **kwargs):
        sent.append(params)

    client.meta.events.register("provide-client-params.lambda.Invoke", record)
    with Stubber(client) as stubber:
        stubber.sent = sent
        yield stubber
    client.meta.events.unregister("provide-client-params.lambda.Invoke", record)


def test_dispatch_on_lambda_invokes_the_worker_asynchronously(on_lambda, lambda_stub):
    lambda_stub.add_response("invoke", {"StatusCode": 202})
    runs_before = list(TASK_RUNS)

    record_task_run.dispatch("user-42")

    lambda_stub.assert_no_pending_responses()
    (params,) = lambda_stub.sent
    assert params["FunctionName"] == "lego-api-dev-worker"
    assert params["InvocationType"] == "Event"
    message = json.loads(params["Payload"])
    assert message["task_path"] == "tests.urls.record_task_run"
    assert message["args"] == ["user-42"]
    assert message["command"] == "zappa.asynchronous.route_lambda_task"
    assert runs_before == TASK_RUNS  # not run here


def test_without_a_worker_function_the_current_function_runs_tasks(on_lambda, settings, lambda_stub):
    settings.TASKS_WORKER_FUNCTION = None
    lambda_stub.add_response("invoke", {"StatusCode": 202})

    record_task_run.dispatch("user-43")

    assert lambda_stub.sent[0]["FunctionName"] == "lego-api-dev"


@pytest.mark.django_db
def test_delay_on_lambda_invokes_after_commit(on_lambda, lambda_stub, django_capture_on_commit_callbacks):
    lambda_stub.add_response("invoke", {"StatusCode": 202})

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record_task_run.delay("user-44")
        assert lambda_stub.sent == []

    assert len(callbacks) == 1
    assert json.loads(lambda_stub.sent[0]["Payload"])["args"] == ["user-44"]


def test_the_worker_routes_the_payload_back_to_the_task(on_lambda):
    from zappa.asynchronous import route_lambda_task

    route_lambda_task(json.loads(record_task_run.payload(["from-worker"])), None)

    assert TASK_RUNS[-1] == "from-worker"


def test_off_lambda_the_same_call_runs_inline(monkeypatch, settings, lambda_stub):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    settings.TASKS_EAGER = False

    record_task_run.dispatch("local-run")

    assert TASK_RUNS[-1] == "local-run"
    assert lambda_stub.sent == []


def test_tasks_eager_runs_inline_on_lambda(on_lambda, settings, lambda_stub):
    settings.TASKS_EAGER = True

    record_task_run.dispatch("eager-run")

    assert TASK_RUNS[-1] == "eager-run"
    assert lambda_stub.sent == []


@pytest.mark.parametrize("bad", [uuid.uuid4(), object(), {1, 2}])
def test_non_json_arguments_are_refused_at_the_call_site(bad):
    with pytest.raises(TaskPayloadError, match="JSON-serialisable"):
        record_task_run.delay(bad)


def test_payload_over_the_async_limit_is_refused():
    with pytest.raises(TaskPayloadError, match="256000-byte"):
        record_task_run.delay("x" * 256_000)
    assert len(record_task_run.payload(["x" * 255_800])) <= tasks.PAYLOAD_LIMIT


def test_a_failed_invoke_is_logged_not_raised(on_lambda, lambda_stub, caplog):
    lambda_stub.add_client_error("invoke", "ResourceNotFoundException", http_status_code=404)

    with caplog.at_level(logging.ERROR, logger="lego_api.tasks"):
        record_task_run.dispatch("lost")

    assert any(r.getMessage() == "task dispatch failed" for r in caplog.records)


def test_scheduled_events_call_a_zero_argument_task_with_no_arguments():
    """Zappa calls a scheduled function with as many of (event, context) as its signature takes."""
    from mocs.tasks import cleanup_stale_uploads

    assert inspect.getfullargspec(cleanup_stale_uploads).args == []
    called = []
    probe = tasks.Task(lambda: called.append(True))
    LambdaHandler.run_function(probe, {"detail-type": "Scheduled Event"}, None)
    assert called == [True]
