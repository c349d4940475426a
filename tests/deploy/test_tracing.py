"""X-Ray (XRAY_ENABLED): the packaged handler, as on Lambda with active tracing, sends subsegments for the request,
its SQL queries, its S3 call and its search call to the X-Ray daemon address (a UDP socket here)."""

from __future__ import annotations

import pytest

from tests.deploy.conftest import PackagedLambda, api_event, lambda_env
from tests.helpers import xray_daemon, xray_documents

TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793"


@pytest.fixture
def daemon():
    with xray_daemon(quiet_seconds=0.5) as sock:
        yield sock


def walk(documents: list[dict]):
    stack = list(documents)
    while stack:
        document = stack.pop()
        yield document
        stack.extend(document.get("subsegments", []))


def test_request_database_s3_and_search_calls_become_subsegments(unzipped, daemon):
    env = lambda_env(
        XRAY_ENABLED="true",
        LAMBDA_TASK_ROOT=str(unzipped),
        _X_AMZN_TRACE_ID=f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1",
        AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon.getsockname()[1]}",
    )
    runner = PackagedLambda(unzipped, env)
    try:
        invocation = runner.invoke(api_event("GET", "/health"))
    finally:
        runner.close()

    assert invocation.ok, invocation.error
    assert invocation.result["statusCode"] == 200
    segments = list(walk(xray_documents(daemon)))
    assert segments, "\n".join(invocation.logs)
    assert all(s.get("trace_id", TRACE_ROOT) == TRACE_ROOT for s in segments)
    names = {s["name"] for s in segments}
    assert any("sql" in s for s in segments), names  # the health check's SELECT 1
    assert any(s.get("aws", {}).get("operation") == "HeadBucket" for s in segments), names
    (search,) = [s for s in segments if s["name"] == "opensearch"]
    assert search["namespace"] == "remote"
    assert search["http"]["request"]["url"] == "/_cluster/health"
    assert "lego-api-dev" in names  # the request itself: the middleware's subsegment, named after the service
