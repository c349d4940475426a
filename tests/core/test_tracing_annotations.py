"""X-Ray request annotations (XRAY_ENABLED): `userId`, `operation` (method and route name, never the raw path) and
`status` on the request subsegment, none on Lambda's own segment.

The app runs in a child process set up as on Lambda with active tracing (LAMBDA_TASK_ROOT and a sampled
`_X_AMZN_TRACE_ID` per request, so the SDK's recorder uses its Lambda context), on the test database, and the
segment documents it emits are caught on a local UDP socket standing in for the X-Ray daemon. A child process,
because the SDK's patches (botocore, database cursors, OpenSearch) are process-wide and the recorder picks its
Lambda context when it is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from tests.helpers import xray_daemon, xray_documents

ROOT = Path(__file__).resolve().parents[2]

# Runs in the child: one request per (method, path, token), each under its own trace id, as the Lambda runtime sets.
CHILD = """
import json, os, sys
import django
from django.test.utils import setup_test_environment
django.setup()
setup_test_environment()
from django.conf import settings
from django.test import Client
assert settings.MIDDLEWARE[0] == "lego_api.core.tracing.XRayMiddleware", settings.MIDDLEWARE
client = Client()
for trace_id, method, path, token in json.loads(sys.argv[1]):
    os.environ["_X_AMZN_TRACE_ID"] = f"Root={trace_id};Parent=53995c3f42cd8ad8;Sampled=1"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.generic(method, path, **headers)
    print(json.dumps({"trace": trace_id, "status": response.status_code}), flush=True)
"""


@pytest.fixture
def daemon():
    with xray_daemon(quiet_seconds=1.0) as sock:
        yield sock


def run_traced(daemon, requests: list[tuple[str, str, str | None]], **env_overrides: str) -> tuple[list, list]:
    """Serve `requests` in a Lambda-like child; (their trace ids and statuses, every document the SDK sent)."""
    # The harness's DATABASE_URL, naming the test database pytest-django created.
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": urlunsplit(database_url),
        "XRAY_ENABLED": "true",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "lego-api-dev",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "METRICS_ENABLED": "false",
        **env_overrides,
    }
    env.pop("_X_AMZN_TRACE_ID", None)
    batch = [(f"1-5759e988-{uuid.uuid4().hex[:24]}", method, path, token) for method, path, token in requests]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(batch)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr[-4000:]
    replies = [json.loads(line) for line in child.stdout.splitlines() if line.startswith('{"trace"')]
    return replies, xray_documents(daemon)


def request_subsegment(documents: list[dict], trace_id: str) -> dict:
    """The request's own subsegment (the SDK middleware's, named after the service), for one trace."""
    [found] = [
        d for d in documents if d.get("trace_id") == trace_id and d["name"].startswith("lego-api-") and "http" in d
    ]
    return found


@pytest.mark.django_db(transaction=True)
def test_request_subsegment_carries_user_operation_and_status(daemon, token_for):
    token = token_for("trace-user-1")
    missing = uuid.uuid4()
    replies, documents = run_traced(
        daemon,
        [
            ("GET", "/api/test/echo", token),
            ("GET", f"/api/mocs/{missing}", token),
            ("GET", f"/api/mocs/{missing}", None),
            ("GET", "/api/test/boom", token),
            ("GET", "/api/no-such-route", None),
        ],
    )

    assert [reply["status"] for reply in replies] == [200, 404, 401, 500, 404]
    annotations = [request_subsegment(documents, reply["trace"]).get("annotations") for reply in replies]
    assert annotations == [
        {"userId": "trace-user-1", "operation": "GET test-echo", "status": 200},
        {"userId": "trace-user-1", "operation": "GET moc-detail", "status": 404},
        {"operation": "GET moc-detail", "status": 401},  # anonymous: no userId
        {"userId": "trace-user-1", "operation": "GET test-boom", "status": 500},
        {"operation": "GET unrouted", "status": 404},
    ]
    # The raw path (with its id) is never an annotation; it stays in the subsegment's http block only.
    assert all(str(missing) not in json.dumps(a) for a in annotations)
    # On Lambda the requests hang under the function's segment: the SDK sends only subsegments (the facade segment
    # is Lambda's own and is never sent or changed), each a child of the trace's parent.
    assert documents and all(d.get("type") == "subsegment" for d in documents)
    assert all(
        d["parent_id"] == "53995c3f42cd8ad8" for d in (request_subsegment(documents, r["trace"]) for r in replies)
    )


@pytest.mark.django_db(transaction=True)
def test_a_rate_limited_request_still_names_its_route(daemon, token_for):
    """Answered by the API gate before the URL is routed: the annotation resolves the route itself."""
    user = f"trace-user-{uuid.uuid4().hex[:8]}"
    token = token_for(user)
    replies, documents = run_traced(
        daemon, [("GET", "/api/test/echo", token)] * 3, RATE_LIMIT_ENABLED="true", RATE_LIMIT_GENERAL="2/900"
    )

    statuses = [reply["status"] for reply in replies]
    assert statuses == [200, 200, 429], statuses
    limited = next(reply for reply in replies if reply["status"] == 429)
    assert request_subsegment(documents, limited["trace"])["annotations"] == {
        "userId": user,
        "operation": "GET test-echo",
        "status": 429,
    }


def test_no_tracing_middleware_without_xray_enabled(settings):
    assert not settings.XRAY_ENABLED
    assert "lego_api.core.tracing.XRayMiddleware" not in settings.MIDDLEWARE
