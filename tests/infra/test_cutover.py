"""`make cutover STAGE=… WEIGHT=…` (infra/cutover.py) against moto's CloudFormation (the dns stack, created from its
committed template), CloudWatch (alarms put in ALARM with set_alarm_state) and API Gateway, and a real HTTP server
on 127.0.0.1 answering `/health`.

moto's CloudFormation records a stack update's parameters but does not re-apply a RecordSetGroup's records, so the
weights the cutover sets are read from the stack's parameters here; test_dns.py shows moto's Route53 getting the
records a given pair of weights describes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from infra import cutover
from infra.cutover import CutoverRefused, Weights
from tests.infra.dns_stack import REGION, create_dns_stack

HEALTHY = {"success": True, "data": {"status": "healthy", "version": "1.0.0", "components": {}}}
DEGRADED = {
    "success": True,
    "data": {"status": "degraded", "components": {"database": {"status": "up"}, "search": {"status": "down"}}},
}
UNHEALTHY = {
    "success": False,
    "error": {
        "type": "SERVICE_UNAVAILABLE",
        "message": "Database unavailable",
        "details": {"status": "unhealthy", "components": {"database": {"status": "down"}}},
    },
}
ALARMS = ("lego-api-prod-lambda-error-rate", "lego-api-prod-apigw-5xx-rate")


class HealthServer:
    """`GET /health` answers `status` with `body` (set by the test); every path asked for is kept."""

    def __init__(self) -> None:
        self.status, self.body, self.paths = 200, HEALTHY, []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.paths.append(self.path)
                payload = json.dumps(owner.body).encode()
                self.send_response(owner.status if self.path == "/health" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status: int, body: dict) -> None:
        self.status, self.body = status, body


@pytest.fixture
def health() -> Iterator[HealthServer]:
    server = HealthServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def aws(monkeypatch):
    """moto with the prod dns stack (everything on the old API) and the prod alarms, all OK."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        create_dns_stack("prod")
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for name in (*ALARMS, "lego-api-staging-lambda-error-rate"):
            put_alarm(cloudwatch, name)
        yield {
            "cloudformation": boto3.client("cloudformation", region_name=REGION),
            "cloudwatch": cloudwatch,
        }


def put_alarm(cloudwatch, name: str) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")


def fire(aws, name: str) -> None:
    aws["cloudwatch"].set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test: threshold crossed")


def weights(aws, stage: str = "prod") -> Weights:
    return cutover.current_weights(stage, aws["cloudformation"])


def run(aws, weight: int, url: str, **kwargs) -> Weights:
    return cutover.cutover("prod", weight, url=url, log=lambda message: None, **aws, **kwargs)


def test_a_healthy_quiet_stage_takes_its_share(aws, health):
    assert weights(aws) == Weights(new=0, old=100)
    assert run(aws, 10, health.url) == Weights(new=10, old=90)
    assert weights(aws) == Weights(new=10, old=90)
    assert health.paths == ["/health"]
    stack = aws["cloudformation"].describe_stacks(StackName="lego-api-dns-prod")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["DomainName"] == "api.example.com"  # the other parameters kept their values


def test_the_phases_move_up_to_all_traffic(aws, health):
    for weight in (10, 50, 100):
        run(aws, weight, health.url)
        assert weights(aws) == Weights(new=weight, old=100 - weight)


def test_a_firing_alarm_refuses_and_names_it(aws, health):
    fire(aws, ALARMS[1])
    with pytest.raises(CutoverRefused, match=r"alarms firing for prod: lego-api-prod-apigw-5xx-rate$"):
        run(aws, 10, health.url)
    assert weights(aws) == Weights(new=0, old=100)


def test_every_firing_alarm_is_named(aws, health):
    for name in ALARMS:
        fire(aws, name)
    with pytest.raises(CutoverRefused) as refused:
        run(aws, 50, health.url)
    assert all(name in str(refused.value) for name in ALARMS)


def test_another_stages_alarm_does_not_count(aws, health):
    fire(aws, "lego-api-staging-lambda-error-rate")
    assert run(aws, 10, health.url) == Weights(new=10, old=90)


def test_a_stage_without_alarms_is_refused(aws, health):
    aws["cloudwatch"].delete_alarms(AlarmNames=list(ALARMS))
    with pytest.raises(CutoverRefused, match="no alarm named lego-api-prod-"):
        run(aws, 10, health.url)
    assert weights(aws) == Weights(new=0, old=100)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (503, UNHEALTHY, "answered 503, status 'unhealthy' (down: database)"),
        (200, DEGRADED, "answered 200, status 'degraded' (down: search)"),
        (502, {"message": "Internal server error"}, "answered 502, status None"),
    ],
)
def test_an_unhealthy_stage_is_refused(aws, health, status, body, message):
    health.answer(status, body)
    with pytest.raises(CutoverRefused) as refused:
        run(aws, 10, health.url)
    assert message in str(refused.value)
    assert weights(aws) == Weights(new=0, old=100)


def test_a_stage_that_does_not_answer_is_refused(aws, health):
    url = health.url
    health.server.shutdown()
    health.server.server_close()
    with pytest.raises(CutoverRefused, match="did not answer"):
        run(aws, 10, url)


def test_weight_zero_rolls_back_while_alarms_fire_and_health_fails(aws, health):
    run(aws, 50, health.url)
    fire(aws, ALARMS[0])
    health.answer(503, UNHEALTHY)
    health.paths.clear()
    messages: list[str] = []
    assert cutover.cutover("prod", 0, url=health.url, log=messages.append, **aws) == Weights(new=0, old=100)
    assert weights(aws) == Weights(new=0, old=100)
    assert health.paths == []  # no check stood in the way
    assert "allowed while alarms fire" in messages[0]


def test_the_same_weight_again_changes_nothing(aws, health):
    run(aws, 10, health.url)
    messages: list[str] = []
    cutover.cutover("prod", 10, url=health.url, log=messages.append, **aws)
    assert messages[-1].endswith("nothing to change")
    assert weights(aws) == Weights(new=10, old=90)


@pytest.mark.parametrize("weight", [-1, 101])
def test_a_weight_outside_0_to_100_is_refused(aws, health, weight):
    with pytest.raises(CutoverRefused, match="percentage from 0 to 100"):
        run(aws, weight, health.url)
    assert health.paths == []


def test_the_stage_url_is_zappas_rest_api(aws):
    apigateway = boto3.client("apigateway", region_name=REGION)
    apigateway.create_rest_api(name="lego-api-staging")
    api_id = apigateway.create_rest_api(name="lego-api-prod")["id"]
    assert cutover.stage_url("prod", apigateway, REGION) == f"https://{api_id}.execute-api.{REGION}.amazonaws.com/prod"
    with pytest.raises(CutoverRefused, match="no REST API named lego-api-dev"):
        cutover.stage_url("dev", apigateway, REGION)


def test_the_command_exits_1_naming_the_alarm_and_0_once_it_clears(aws, health, capsys):
    fire(aws, ALARMS[0])
    assert cutover.main(["--stage", "prod", "--weight", "10", "--url", health.url]) == 1
    assert f"cutover refused, nothing changed: alarms firing for prod: {ALARMS[0]}" in capsys.readouterr().err
    aws["cloudwatch"].set_alarm_state(AlarmName=ALARMS[0], StateValue="OK", StateReason="test: recovered")
    assert cutover.main(["--stage", "prod", "--weight", "10", "--url", health.url]) == 0
    assert "0% this API / 100% the old API -> 10% this API / 90% the old API" in capsys.readouterr().out
    assert weights(aws) == Weights(new=10, old=90)


def test_the_command_names_a_missing_dns_stack(aws, health, capsys):
    """No dns stack for staging: an AWS error, told in one line rather than a traceback."""
    assert cutover.main(["--stage", "staging", "--weight", "0", "--url", health.url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cutover failed: ")
    assert "lego-api-dns-staging" in err
