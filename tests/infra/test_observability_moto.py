"""The observability template's resources created through moto's own APIs (the harness's moto server), from the
template's properties as CloudFormation would pass them: moto's CloudFormation skips alarms, dashboards, metric
filters and budgets. The alert topic and its email subscription; every alarm, then driven to ALARM with
`set_alarm_state` the way the cutover command reads them; the dashboard; the metric filters; the budget with its
notifications.

moto stores metric filters but does not evaluate them (it has no TestMetricFilter, and log events never become
metric data), so the filter patterns are also checked here against real lines: the REPORT lines Lambda writes
and the JSON request line our middleware logs for a 500, matched with a small reading of the pattern syntax
(documented in the test), not AWS's own matcher."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import uuid
from typing import Any

import boto3
import pytest

from lego_api.core.logging import JsonFormatter
from tests.infra.test_observability import (
    PRD_ALARMS,
    alarms,
    load_template,
    parameters,
    resolve,
    resources_of,
)

# A region of its own on the shared moto server, so that no other test sees these alarms (the cutover tests read
# every `lego-api-{stage}-` alarm).
REGION = "eu-west-3"


@pytest.fixture
def aws(services):
    endpoint = os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]  # the harness's moto server (every API)

    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture
def topic_arn(aws):
    """The alert topic and its subscription, created from the template's properties."""
    values = parameters("prod")
    topic = resolve(load_template()["Resources"]["AlertTopic"]["Properties"], values)
    sns = aws("sns")
    arn = sns.create_topic(
        Name=topic["TopicName"], Attributes={"DisplayName": topic["DisplayName"]}, Tags=topic["Tags"]
    )["TopicArn"]
    [subscription] = resources_of("AWS::SNS::Subscription").values()
    properties = resolve(subscription["Properties"], values)
    sns.subscribe(TopicArn=arn, Protocol=properties["Protocol"], Endpoint=properties["Endpoint"])
    [policy] = resources_of("AWS::SNS::TopicPolicy").values()
    document = resolve(policy["Properties"]["PolicyDocument"], {**values, "AlertTopic": arn})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(document))
    yield arn
    sns.delete_topic(TopicArn=arn)


def put_alarm_arguments(properties: dict[str, Any], topic: str) -> dict[str, Any]:
    """CloudFormation's AWS::CloudWatch::Alarm properties as PutMetricAlarm's arguments (the same names)."""
    arguments = {key: value for key, value in properties.items() if key not in ("AlarmActions", "OKActions")}
    return {**arguments, "AlarmActions": [topic], "OKActions": [topic]}


def test_topic_and_subscription(aws, topic_arn):
    sns = aws("sns")
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]

    assert topic_arn.endswith(":lego-api-serverless-alerts-prod")
    policy = json.loads(attributes["Policy"])
    assert {s["Principal"]["Service"] for s in policy["Statement"]} == {
        "cloudwatch.amazonaws.com",
        "budgets.amazonaws.com",
    }
    assert all(s["Resource"] == topic_arn for s in policy["Statement"])
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ops@example.com")
    tags = {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"]}
    assert tags == {"Project": "lego-api", "Environment": "prod"}


def test_alarms_fire_to_the_topic(aws, topic_arn):
    cloudwatch = aws("cloudwatch")
    found = alarms("prod")
    for properties in found.values():
        cloudwatch.put_metric_alarm(**put_alarm_arguments(properties, topic_arn))
    try:
        described = {
            a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix="lego-api-prod-")["MetricAlarms"]
        }
        assert set(described) == set(found)
        for name, alarm in described.items():
            threshold, comparison, period, evaluations, datapoints, missing = PRD_ALARMS[
                name.removeprefix("lego-api-prod-")
            ]
            assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (threshold, comparison), name
            assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (evaluations, datapoints), name
            assert alarm["TreatMissingData"] == missing, name
            if alarm.get("Metrics"):  # moto lists an empty Metrics for a single-metric alarm
                assert {q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q} == {period}, name
            else:
                assert alarm["Period"] == period, name
            assert alarm["AlarmActions"] == alarm["OKActions"] == [topic_arn], name
            assert alarm["StateValue"] != "ALARM", name  # moto creates alarms OK; AWS, INSUFFICIENT_DATA

        for name in found:
            cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test: breached")
        # moto ignores StateValue when AlarmNamePrefix is given: ask by state alone (this region holds only ours),
        # and read each alarm's state by prefix.
        firing = cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"]
        assert {a["AlarmName"] for a in firing} == set(found)
        assert all(a["AlarmActions"] == [topic_arn] for a in firing)
        listed = cloudwatch.describe_alarms(AlarmNamePrefix="lego-api-prod-")["MetricAlarms"]
        assert {a["StateValue"] for a in listed} == {"ALARM"}

        cloudwatch.set_alarm_state(AlarmName="lego-api-prod-rds-cpu", StateValue="OK", StateReason="test: recovered")
        firing = {a["AlarmName"] for a in cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"]}
        assert firing == set(found) - {"lego-api-prod-rds-cpu"}
        [tags] = [
            cloudwatch.list_tags_for_resource(ResourceARN=described["lego-api-prod-cold-start"]["AlarmArn"])["Tags"]
        ]
        assert {t["Key"]: t["Value"] for t in tags} == {"Project": "lego-api", "Environment": "prod"}
    finally:
        cloudwatch.delete_alarms(AlarmNames=list(found))


def test_dashboard_is_accepted(aws):
    [resource] = resources_of("AWS::CloudWatch::Dashboard").values()
    properties = resolve(resource["Properties"], parameters("staging"))
    cloudwatch = aws("cloudwatch")
    cloudwatch.put_dashboard(DashboardName=properties["DashboardName"], DashboardBody=properties["DashboardBody"])
    try:
        stored = cloudwatch.get_dashboard(DashboardName="LEGO-API-Serverless-staging")
        assert json.loads(stored["DashboardBody"]) == json.loads(properties["DashboardBody"])
    finally:
        cloudwatch.delete_dashboards(DashboardNames=["LEGO-API-Serverless-staging"])


def api_transformation(transformation: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's MetricTransformation as PutMetricFilter's (camelCase; dimensions a map, not a list)."""
    converted = {key[0].lower() + key[1:]: value for key, value in transformation.items()}
    if "dimensions" in converted:
        converted["dimensions"] = {d["Key"]: d["Value"] for d in converted["dimensions"]}
    return converted


def test_metric_filters_are_created_on_the_function_log_group(aws):
    logs = aws("logs")
    group = f"/aws/lambda/lego-api-prod-{uuid.uuid4().hex[:6]}"  # this test's own group on the shared server
    logs.create_log_group(logGroupName=group)
    try:
        filters = [
            resolve(r["Properties"], parameters("prod")) for r in resources_of("AWS::Logs::MetricFilter").values()
        ]
        for metric_filter in filters:
            assert metric_filter["LogGroupName"] == "/aws/lambda/lego-api-prod"
            logs.put_metric_filter(
                logGroupName=group,
                filterName=metric_filter["FilterName"],
                filterPattern=metric_filter["FilterPattern"],
                metricTransformations=[api_transformation(t) for t in metric_filter["MetricTransformations"]],
            )
        stored = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
        assert {f["filterName"] for f in stored} == {
            "lego-api-prod-cold-start-init",
            "lego-api-prod-cold-start-restore",
            "lego-api-prod-server-errors",
            "lego-api-prod-server-errors-by-type",
        }
        by_type = next(f for f in stored if f["filterName"] == "lego-api-prod-server-errors-by-type")
        assert by_type["metricTransformations"][0]["dimensions"] == {"ErrorType": "$.errorType"}
        cold = logs.describe_metric_filters(metricName="ColdStartDuration", metricNamespace="LegoApi/Logs/prod")
        assert {f["filterName"] for f in cold["metricFilters"] if f["logGroupName"] == group} == {
            "lego-api-prod-cold-start-init",
            "lego-api-prod-cold-start-restore",
        }
    finally:
        logs.delete_log_group(logGroupName=group)


def test_budget_and_its_notifications(aws):
    [resource] = resources_of("AWS::Budgets::Budget").values()
    properties = resolve(resource["Properties"], parameters("prod", AlertTopic="arn:aws:sns:eu-west-3:123:alerts"))
    budget = properties["Budget"]
    budgets = aws("budgets")
    account = "123456789012"
    budgets.create_budget(
        AccountId=account,
        Budget={
            "BudgetName": budget["BudgetName"],
            "BudgetLimit": {"Amount": str(budget["BudgetLimit"]["Amount"]), "Unit": budget["BudgetLimit"]["Unit"]},
            "BudgetType": budget["BudgetType"],
            "TimeUnit": budget["TimeUnit"],
        },
        NotificationsWithSubscribers=properties["NotificationsWithSubscribers"],
    )
    try:
        stored = budgets.describe_budget(AccountId=account, BudgetName="lego-api-prod-monthly")["Budget"]
        assert float(stored["BudgetLimit"]["Amount"]) == 200
        notifications = budgets.describe_notifications_for_budget(AccountId=account, BudgetName="lego-api-prod-monthly")
        assert {(n["NotificationType"], n["Threshold"]) for n in notifications["Notifications"]} == {
            ("ACTUAL", 80),
            ("ACTUAL", 100),
            ("FORECASTED", 100),
        }
        # moto does not implement DescribeSubscribersForNotification: the SNS subscriber is asserted on the
        # template (test_observability.py).
    finally:
        budgets.delete_budget(AccountId=account, BudgetName="lego-api-prod-monthly")


# --- The filter patterns against real lines ------------------------------------------------------------------------
#
# CloudWatch's space-delimited patterns: `[a, b="x", ...]` splits the line on whitespace, names each field in turn,
# a `name="value"` field must equal `value`, and `...` matches any number of fields. The JSON patterns used here are
# a conjunction of `($.field = "text")`, `($.field >= number)` and `($.field = *)` (present).

INIT_REPORT = (
    "REPORT RequestId: 8f5c3b2e-7d1a-4c59-9e4b-2a6f0d1c9b77\tDuration: 102.25 ms\tBilled Duration: 103 ms\t"
    "Memory Size: 2048 MB\tMax Memory Used: 187 MB\tInit Duration: 812.33 ms\t\n"
    "XRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true"
)
RESTORE_REPORT = (
    "REPORT RequestId: 0b2f4c1a-6e3d-4a8b-b1c2-9d8e7f6a5b4c\tDuration: 35.10 ms\tBilled Duration: 214 ms\t"
    "Memory Size: 2048 MB\tMax Memory Used: 160 MB\tRestore Duration: 378.92 ms\tBilled Restore Duration: 178 ms\t"
)
WARM_REPORT = (
    "REPORT RequestId: 5d7e9f10-2a3b-4c5d-8e9f-a0b1c2d3e4f5\tDuration: 12.04 ms\tBilled Duration: 13 ms\t"
    "Memory Size: 2048 MB\tMax Memory Used: 190 MB\t"
)


def space_delimited_match(pattern: str, line: str) -> dict[str, str] | None:
    fields = [f.strip() for f in pattern.strip("[]").split(",")]
    tokens = line.split()
    if fields[-1] == "...":
        fields = fields[:-1]
        if len(tokens) < len(fields):
            return None
    elif len(tokens) != len(fields):
        return None
    named = {}
    for field, token in zip(fields, tokens, strict=False):
        name, _, expected = field.partition("=")
        if expected and token != expected.strip('"'):
            return None
        named[name] = token
    return named


def json_match(pattern: str, line: str) -> bool:
    document = json.loads(line)
    clauses = re.findall(r"\(\$\.(\w+) (=|>=) (\"[^\"]*\"|\d+|\*)\)", pattern)
    assert len(clauses) == pattern.count("("), pattern  # nothing this reading does not cover
    for name, operator, expected in clauses:
        if name not in document:
            return False
        value = document[name]
        if expected == "*":
            continue
        if operator == ">=":
            if not isinstance(value, int | float) or value < int(expected):
                return False
        elif value != expected.strip('"'):
            return False
    return True


def filter_pattern(name: str) -> str:
    return load_template()["Resources"][name]["Properties"]["FilterPattern"]


def test_cold_start_filters_pick_the_init_and_restore_durations():
    init, restore = filter_pattern("ColdStartInitFilter"), filter_pattern("ColdStartRestoreFilter")

    assert space_delimited_match(init, INIT_REPORT)["cold_start"] == "812.33"
    assert space_delimited_match(restore, RESTORE_REPORT)["cold_start"] == "378.92"
    assert space_delimited_match(init, RESTORE_REPORT) is None
    assert space_delimited_match(restore, INIT_REPORT) is None
    for pattern in (init, restore):
        assert space_delimited_match(pattern, WARM_REPORT) is None  # no cold start, no data point
        assert space_delimited_match(pattern, "START RequestId: 8f5c Version: 12") is None


@pytest.mark.django_db
def test_server_error_filters_match_the_request_log_line_of_a_500(client):
    """The line is the real one: the middleware's `lego_api.request` record through our JsonFormatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("lego_api.request")
    logger.addHandler(handler)
    try:
        assert client.get("/api/test/boom").status_code == 500
        assert client.get("/api/no-such-route").status_code == 404
    finally:
        logger.removeHandler(handler)
    server_error, not_found = stream.getvalue().splitlines()
    assert json.loads(server_error)["errorType"] == "INTERNAL_ERROR"

    total, by_type = filter_pattern("ServerErrorsFilter"), filter_pattern("ServerErrorsByTypeFilter")
    assert json_match(total, server_error) and json_match(by_type, server_error)
    assert not json_match(total, not_found) and not json_match(by_type, not_found)
    [dimension] = load_template()["Resources"]["ServerErrorsByTypeFilter"]["Properties"]["MetricTransformations"][0][
        "Dimensions"
    ]
    assert json.loads(server_error)[dimension["Value"].removeprefix("$.")] == "INTERNAL_ERROR"
