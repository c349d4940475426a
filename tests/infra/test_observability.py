"""The generated observability template (infra/templates/observability.json), read as CloudFormation would: every
alarm's name, threshold, period, evaluation, comparison, missing-data rule and actions against the PRD; each alarm's
runbook link against docs/runbook.md's sections; the dashboard's widgets against the metrics the PRD lists and the
EMF names the code emits; the metric filters, the sampling rule, the budget and the cost tags."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "infra" / "templates" / "observability.json"
RUNBOOK = ROOT / "docs" / "runbook.md"
RUNBOOK_URL = "https://github.com/example/lego-api/blob/main/docs/runbook.md"
ACCOUNT = "123456789012"
REGION = "us-east-1"
# What the data stack exports (any values do; they must land where they belong).
IMPORTS = {
    "DbInstanceId": "lego-api-prod-db",
    "DbProxyName": "lego-api-prod-proxy",
    "CacheReplicationGroupId": "lego-api-prod-cache",
    "SearchDomainName": "lego-api-prod-search",
    "MediaBucketName": "lego-api-prod-media",
}

# The PRD's alarms: slug -> (threshold, comparison, period s, evaluation periods, datapoints to alarm, missing data)
PRD_ALARMS = {
    "api-error-rate": (5, "GreaterThanThreshold", 300, 1, 1, "notBreaching"),
    "worker-error-rate": (5, "GreaterThanThreshold", 300, 1, 1, "notBreaching"),
    "api-throttles": (10, "GreaterThanThreshold", 300, 1, 1, "notBreaching"),
    "worker-throttles": (10, "GreaterThanThreshold", 300, 1, 1, "notBreaching"),
    "apigw-5xx-rate": (3, "GreaterThanThreshold", 300, 1, 1, "notBreaching"),
    "apigw-p99-latency": (3000, "GreaterThanThreshold", 300, 1, 1, "notBreaching"),
    "rds-cpu": (80, "GreaterThanThreshold", 300, 2, 2, "missing"),
    "rds-freeable-memory": (1024**3, "LessThanThreshold", 300, 2, 2, "missing"),
    "redis-evictions": (100, "GreaterThanThreshold", 60, 5, 3, "missing"),
    "opensearch-red": (1, "GreaterThanOrEqualToThreshold", 60, 1, 1, "breaching"),
    "cold-start": (2000, "GreaterThanThreshold", 300, 1, 1, "notBreaching"),
    "server-errors": (5, "GreaterThanOrEqualToThreshold", 300, 1, 1, "notBreaching"),
}


# --- A small evaluator of the intrinsic functions the template uses, for one stage's parameter values -----------


def parameters(stage: str, **overrides: str) -> dict[str, Any]:
    values = {
        "Stage": stage,
        "DataStackName": f"lego-api-data-{stage}",
        "AlertEmail": "ops@example.com",
        "RunbookUrl": RUNBOOK_URL,
        "AWS::AccountId": ACCOUNT,
        "AWS::Region": REGION,
        "AWS::Partition": "aws",
    }
    for name, spec in load_template()["Parameters"].items():
        if "Default" in spec:
            values.setdefault(name, spec["Default"])
    values.update(overrides)
    return values


def resolve(node: Any, values: dict[str, Any], template: dict[str, Any] | None = None) -> Any:
    """Fn::Sub, Ref, Fn::ImportValue (the data stack's export, from IMPORTS), Fn::FindInMap, Fn::Join."""
    template = template or load_template()
    if isinstance(node, list):
        return [resolve(item, values, template) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"}:
        name = node["Ref"]
        if name in values:
            return values[name]
        assert name in template["Resources"], f"Ref to nothing: {name}"
        return f"arn:aws:ref:{name}"
    if set(node) == {"Fn::Sub"}:
        text, variables = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
        scope = {**values, **{key: resolve(value, values, template) for key, value in variables.items()}}

        def substitute(match: re.Match) -> str:
            assert match.group(1) in scope, f"unknown ${{{match.group(1)}}}"
            return str(scope[match.group(1)])

        return re.sub(r"\$\{([A-Za-z0-9:]+)\}", substitute, text)
    if set(node) == {"Fn::ImportValue"}:
        name = resolve(node["Fn::ImportValue"], values, template)
        stack, _, output = name.rpartition("-")
        assert stack == values["DataStackName"], name
        assert output in IMPORTS, f"not a data stack export we expect: {output}"
        return IMPORTS[output]
    if set(node) == {"Fn::FindInMap"}:
        mapping, key, attribute = resolve(node["Fn::FindInMap"], values, template)
        return template["Mappings"][mapping][key][attribute]
    if set(node) == {"Fn::Join"}:
        separator, items = node["Fn::Join"]
        return separator.join(str(item) for item in resolve(items, values, template))
    return {key: resolve(value, values, template) for key, value in node.items()}


_cache: dict[str, Any] = {}


def load_template() -> dict[str, Any]:
    if "template" not in _cache:
        _cache["template"] = json.loads(TEMPLATE_PATH.read_text())
    return _cache["template"]


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in load_template()["Resources"].items() if r["Type"] == kind}


def alarms(stage: str = "prod") -> dict[str, dict[str, Any]]:
    """The alarms' properties for `stage`, by their resolved AlarmName."""
    values = parameters(stage)
    resolved = [resolve(r["Properties"], values) for r in resources_of("AWS::CloudWatch::Alarm").values()]
    return {properties["AlarmName"]: properties for properties in resolved}


def runbook_anchors() -> set[str]:
    """GitHub's anchors for the runbook's `## ` headings (lower case, punctuation dropped, spaces to hyphens)."""
    anchors = set()
    for line in RUNBOOK.read_text().splitlines():
        if line.startswith("## "):
            text = line[3:].strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return anchors


def dashboard(stage: str = "prod") -> dict[str, Any]:
    [resource] = resources_of("AWS::CloudWatch::Dashboard").values()
    properties = resolve(resource["Properties"], parameters(stage))
    assert properties["DashboardName"] == f"LEGO-API-Serverless-{stage}"
    return json.loads(properties["DashboardBody"])


def dashboard_metrics(body: dict[str, Any]) -> list[tuple[str, str, dict[str, str], str]]:
    """(namespace, metric, dimensions, statistic) of every metric line of every widget."""
    found = []
    for widget in body["widgets"]:
        properties = widget["properties"]
        for line in properties.get("metrics", []):
            options = line[-1] if isinstance(line[-1], dict) else {}
            parts = [part for part in line if not isinstance(part, dict)]
            if not parts:
                continue  # a math/SEARCH expression
            namespace, metric, *pairs = parts
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            found.append((namespace, metric, dimensions, options.get("stat", properties.get("stat"))))
    return found


# --- Alarms -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_every_prd_alarm_exists_with_its_threshold_period_evaluation_and_name(stage):
    found = alarms(stage)

    assert set(found) == {f"lego-api-{stage}-{slug}" for slug in PRD_ALARMS}
    for slug, (threshold, comparison, period, evaluations, datapoints, missing) in PRD_ALARMS.items():
        alarm = found[f"lego-api-{stage}-{slug}"]
        assert alarm["Threshold"] == threshold, slug
        assert alarm["ComparisonOperator"] == comparison, slug
        assert alarm["EvaluationPeriods"] == evaluations, slug
        assert alarm["DatapointsToAlarm"] == datapoints, slug
        assert alarm["TreatMissingData"] == missing, slug
        periods = (
            {query["MetricStat"]["Period"] for query in alarm["Metrics"] if "MetricStat" in query}
            if "Metrics" in alarm
            else {alarm["Period"]}
        )
        assert periods == {period}, slug


def test_alarms_watch_the_prd_metrics():
    found = {name.removeprefix("lego-api-prod-"): alarm for name, alarm in alarms("prod").items()}

    def math(alarm):
        [result] = [q for q in alarm["Metrics"] if q.get("ReturnData")]
        inputs = {
            q["Id"]: (q["MetricStat"]["Metric"], q["MetricStat"]["Stat"]) for q in alarm["Metrics"] if "MetricStat" in q
        }
        return result["Expression"], inputs

    for slug, function in (("api-error-rate", "lego-api-prod"), ("worker-error-rate", "lego-api-prod-worker")):
        expression, inputs = math(found[slug])
        assert expression == "IF(invocations > 0, 100 * errors / invocations, 0)"
        assert inputs["errors"][0]["MetricName"] == "Errors" and inputs["errors"][1] == "Sum"
        assert inputs["invocations"][0]["MetricName"] == "Invocations" and inputs["invocations"][1] == "Sum"
        for metric, _stat in inputs.values():
            assert metric["Namespace"] == "AWS/Lambda"
            assert metric["Dimensions"] == [{"Name": "FunctionName", "Value": function}]

    expression, inputs = math(found["apigw-5xx-rate"])
    assert expression == "IF(requests > 0, 100 * errors / requests, 0)"
    assert {q: (m["Namespace"], m["MetricName"], s) for q, (m, s) in inputs.items()} == {
        "errors": ("AWS/ApiGateway", "5XXError", "Sum"),
        "requests": ("AWS/ApiGateway", "Count", "Sum"),
    }
    # Zappa names its REST API after the function (zappa/core.py: restapi.Name = api_name or the lambda's name).
    assert all(m["Dimensions"] == [{"Name": "ApiName", "Value": "lego-api-prod"}] for m, _ in inputs.values())

    def single(slug):
        alarm = found[slug]
        dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        return alarm["Namespace"], alarm["MetricName"], alarm.get("Statistic") or alarm["ExtendedStatistic"], dimensions

    assert single("api-throttles") == ("AWS/Lambda", "Throttles", "Sum", {"FunctionName": "lego-api-prod"})
    assert single("worker-throttles") == ("AWS/Lambda", "Throttles", "Sum", {"FunctionName": "lego-api-prod-worker"})
    assert single("apigw-p99-latency") == ("AWS/ApiGateway", "Latency", "p99", {"ApiName": "lego-api-prod"})
    assert single("rds-cpu") == (
        "AWS/RDS",
        "CPUUtilization",
        "Average",
        {"DBInstanceIdentifier": IMPORTS["DbInstanceId"]},
    )
    assert single("rds-freeable-memory") == (
        "AWS/RDS",
        "FreeableMemory",
        "Minimum",
        {"DBInstanceIdentifier": IMPORTS["DbInstanceId"]},
    )
    assert single("redis-evictions") == (
        "AWS/ElastiCache",
        "Evictions",
        "Sum",
        {"CacheClusterId": IMPORTS["CacheReplicationGroupId"] + "-001"},
    )
    assert single("opensearch-red") == (
        "AWS/ES",
        "ClusterStatus.red",
        "Maximum",
        {"DomainName": IMPORTS["SearchDomainName"], "ClientId": ACCOUNT},
    )
    assert single("cold-start") == ("LegoApi/Logs/prod", "ColdStartDuration", "p99", {})
    # No Unit on the alarms: an alarm whose Unit differs from the published one never sees data (thresholds in ms).
    assert all("Unit" not in alarm for alarm in found.values())
    assert single("server-errors") == ("LegoApi/Logs/prod", "ServerErrors", "Sum", {})


def test_alarm_and_ok_actions_go_to_the_alert_topic():
    template = load_template()
    topic = template["Resources"]["AlertTopic"]
    assert resolve(topic["Properties"]["TopicName"], parameters("prod")) == "lego-api-serverless-alerts-prod"
    for name, alarm in alarms().items():
        assert alarm["ActionsEnabled"] is True, name
        assert alarm["AlarmActions"] == alarm["OKActions"] == ["arn:aws:ref:AlertTopic"], name


def test_the_topic_lets_cloudwatch_alarms_and_budgets_publish_and_mails_the_alert_address():
    values = parameters("staging")
    [policy] = resources_of("AWS::SNS::TopicPolicy").values()
    statements = {
        s["Principal"]["Service"]: s for s in resolve(policy["Properties"], values)["PolicyDocument"]["Statement"]
    }
    assert set(statements) == {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
    for statement in statements.values():
        assert statement["Effect"] == "Allow" and statement["Action"] == "sns:Publish"
        assert statement["Resource"] == "arn:aws:ref:AlertTopic"
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    alarms_arn = statements["cloudwatch.amazonaws.com"]["Condition"]["ArnLike"]["aws:SourceArn"]
    assert alarms_arn == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:lego-api-staging-*"
    [subscription] = resources_of("AWS::SNS::Subscription").values()
    assert resolve(subscription["Properties"], values) == {
        "Protocol": "email",
        "Endpoint": "ops@example.com",
        "TopicArn": "arn:aws:ref:AlertTopic",
    }


def test_each_alarm_description_links_to_its_runbook_section():
    anchors = runbook_anchors()
    for name, alarm in alarms("dev").items():
        slug = name.removeprefix("lego-api-dev-")
        links = re.findall(r"https://\S+", alarm["AlarmDescription"])
        assert links == [f"{RUNBOOK_URL}#{slug}"], name
        assert slug in anchors, f"docs/runbook.md has no `## {slug}` section"
        assert len(alarm["AlarmDescription"]) <= 1024


def test_the_runbook_explains_each_alarm_the_budget_and_sampling_and_links_the_cutover():
    text = RUNBOOK.read_text()
    sections = dict(re.findall(r"^## (\S+)\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S))
    for slug in PRD_ALARMS:
        for part in ("**Means:**", "**Look:**", "**Do:**"):
            assert part in sections[slug], (slug, part)
    assert "budget" in sections and "x-ray-sampling" in sections
    assert "[Cutover](cutover.md)" in text


# --- Metric filters ---------------------------------------------------------------------------------------------


def test_metric_filters_read_the_api_function_log_group():
    values = parameters("prod")
    filters = {name: resolve(r["Properties"], values) for name, r in resources_of("AWS::Logs::MetricFilter").items()}

    assert {f["LogGroupName"] for f in filters.values()} == {"/aws/lambda/lego-api-prod"}
    assert all(len(f["FilterPattern"]) <= 1024 for f in filters.values())  # CloudWatch's limit
    cold = [filters["ColdStartInitFilter"], filters["ColdStartRestoreFilter"]]
    for metric_filter in cold:
        [transformation] = metric_filter["MetricTransformations"]
        assert transformation == {
            "MetricNamespace": "LegoApi/Logs/prod",
            "MetricName": "ColdStartDuration",
            "MetricValue": "$cold_start",
            "Unit": "Milliseconds",
        }
    assert 'cold_label="Init"' in cold[0]["FilterPattern"]
    assert 'cold_label="Restore"' in cold[1]["FilterPattern"]
    # The Restore Duration filter exists on SnapStart stages only (parameter SnapStart, default true).
    template = load_template()
    assert template["Resources"]["ColdStartRestoreFilter"]["Condition"] == "HasSnapStart"
    assert template["Conditions"]["HasSnapStart"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
    assert template["Parameters"]["SnapStart"]["Default"] == "true"

    [total] = filters["ServerErrorsFilter"]["MetricTransformations"]
    assert (total["MetricName"], total["MetricValue"], total.get("Dimensions")) == ("ServerErrors", "1", None)
    [by_type] = filters["ServerErrorsByTypeFilter"]["MetricTransformations"]
    assert by_type["MetricName"] == "ServerErrorsByType"
    assert by_type["Dimensions"] == [{"Key": "ErrorType", "Value": "$.errorType"}]


# --- Dashboard --------------------------------------------------------------------------------------------------


def emitted_metric_names() -> set[str]:
    """Every metric name the code passes to `metrics.emit` / `metrics.emit_on_commit` (read from the source)."""
    names = set()
    for package in ("lego_api", "mocs", "gallery", "wishlist", "profiles"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "metrics.py" and path.parent.name == "core":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("emit", "emit_on_commit")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "metrics"
                ):
                    assert isinstance(node.args[0], ast.Constant), f"{path}: metric name not a literal"
                    names.add(node.args[0].value)
    return names


def test_dashboard_covers_24_hours_at_one_minute():
    body = dashboard()
    assert body["start"] == "-PT24H"
    for widget in body["widgets"]:
        assert widget["type"] == "metric"
        assert widget["properties"]["period"] == 60, widget["properties"]["title"]
        assert widget["properties"]["region"] == REGION
        assert {"x", "y", "width", "height"} <= set(widget)


def test_dashboard_has_the_prd_widgets():
    metrics = dashboard_metrics(dashboard("prod"))

    def has(namespace, metric, dimensions, stat=None):
        matches = [m for m in metrics if m[:3] == (namespace, metric, dimensions) and (stat is None or m[3] == stat)]
        assert matches, (namespace, metric, dimensions, stat)

    for function in ("lego-api-prod", "lego-api-prod-worker"):
        fn = {"FunctionName": function}
        for metric in ("Invocations", "Errors", "Throttles"):
            has("AWS/Lambda", metric, fn, "Sum")
        for stat in ("p50", "p95", "p99"):
            has("AWS/Lambda", "Duration", fn, stat)
        has("AWS/Lambda", "ConcurrentExecutions", fn, "Maximum")
    api = {"ApiName": "lego-api-prod"}
    for metric in ("Count", "4XXError", "5XXError"):
        has("AWS/ApiGateway", metric, api, "Sum")
    for stat in ("p50", "p95", "p99"):
        has("AWS/ApiGateway", "Latency", api, stat)
    proxy = {"ProxyName": IMPORTS["DbProxyName"]}
    has("AWS/RDS", "ClientConnections", proxy)
    has("AWS/RDS", "DatabaseConnections", proxy)
    has("AWS/RDS", "DatabaseConnectionsBorrowLatency", proxy)
    has("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": IMPORTS["DbInstanceId"]})
    has("AWS/RDS", "FreeableMemory", {"DBInstanceIdentifier": IMPORTS["DbInstanceId"]})
    for node in ("001", "002"):
        cache = {"CacheClusterId": f"{IMPORTS['CacheReplicationGroupId']}-{node}"}
        has("AWS/ElastiCache", "CacheHitRate", cache)
        has("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", cache)
        has("AWS/ElastiCache", "Evictions", cache)
    search = {"DomainName": IMPORTS["SearchDomainName"], "ClientId": ACCOUNT}
    for metric in ("ClusterStatus.red", "ClusterStatus.yellow", "IndexingLatency", "SearchLatency"):
        has("AWS/ES", metric, search)
    bucket = {"BucketName": IMPORTS["MediaBucketName"], "FilterId": "EntireBucket"}
    for metric in ("AllRequests", "GetRequests", "PutRequests", "4xxErrors", "5xxErrors"):
        has("AWS/S3", metric, bucket, "Sum")
    for stat in ("p50", "p99"):
        has("LegoApi/Logs/prod", "ColdStartDuration", {}, stat)
    has("LegoApi/Logs/prod", "ServerErrors", {}, "Sum")
    expressions = [
        line[0]["expression"]
        for widget in dashboard("prod")["widgets"]
        for line in widget["properties"]["metrics"]
        if isinstance(line[0], dict)
    ]
    assert expressions == ["SEARCH('{LegoApi/Logs/prod,ErrorType} MetricName=\"ServerErrorsByType\"', 'Sum', 60)"]


@pytest.mark.parametrize(("stage", "environment"), [("dev", "dev"), ("staging", "staging"), ("prod", "production")])
def test_dashboard_shows_every_emf_metric_the_code_emits(stage, environment):
    emitted = emitted_metric_names()
    # What the issue lists, so that a rename in the code cannot silently empty the check.
    assert {"MocsCreated", "FilesUploaded", "PartsListsParsed", "SearchesPerformed", "SearchFallbacks"} <= emitted
    assert {"GalleryImagesUploaded", "GalleryImagesProcessed", "RequestLatency"} <= emitted
    shown = {
        metric
        for namespace, metric, dimensions, _stat in dashboard_metrics(dashboard(stage))
        if namespace == "LegoApi" and dimensions == {"Environment": environment}
    }
    assert emitted <= shown, emitted - shown


# --- X-Ray, budget, tags ----------------------------------------------------------------------------------------


def test_sampling_rule_is_one_request_a_second_then_five_percent():
    [rule] = resources_of("AWS::XRay::SamplingRule").values()
    properties = resolve(rule["Properties"]["SamplingRule"], parameters("prod"))
    assert properties["ReservoirSize"] == 1
    assert properties["FixedRate"] == 0.05
    assert properties["ServiceName"] == "lego-api-prod*"  # the function and its REST API's stage
    assert properties["RuleName"] == "lego-api-prod" and len(properties["RuleName"]) <= 32
    assert all(properties[key] == "*" for key in ("Host", "HTTPMethod", "URLPath", "ResourceARN", "ServiceType"))
    assert 1 <= properties["Priority"] <= 9999


def test_monthly_budget_notifies_the_topic_at_80_and_100_percent():
    [budget] = resources_of("AWS::Budgets::Budget").values()
    template = load_template()
    assert template["Parameters"]["MonthlyBudget"]["Default"] == 200
    properties = resolve(budget["Properties"], parameters("staging"))
    data = properties["Budget"]
    assert data["BudgetType"] == "COST" and data["TimeUnit"] == "MONTHLY"
    assert data["BudgetLimit"] == {"Amount": 200, "Unit": "USD"}
    assert data["BudgetName"] == "lego-api-staging-monthly"
    assert data["FilterExpression"] == {
        "And": [
            {"Tags": {"Key": "Project", "Values": ["lego-api"], "MatchOptions": ["EQUALS"]}},
            {"Tags": {"Key": "Environment", "Values": ["staging"], "MatchOptions": ["EQUALS"]}},
        ]
    }
    notifications = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"]): n
        for n in properties["NotificationsWithSubscribers"]
    }
    assert set(notifications) == {("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}
    for notification in notifications.values():
        assert notification["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert notification["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert notification["Subscribers"] == [{"SubscriptionType": "SNS", "Address": "arn:aws:ref:AlertTopic"}]


def test_every_taggable_resource_carries_the_cost_tags():
    template = load_template()
    tagged = 0
    for name, resource in template["Resources"].items():
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource["Type"]).schema
        tagging = schema.get("tagging", {})
        if not tagging.get("taggable", False):
            continue
        tag_property = tagging.get("tagProperty", "/properties/Tags").rsplit("/", 1)[-1]
        tags = resolve(resource["Properties"].get(tag_property), parameters("staging"))
        assert tags is not None, f"{name} ({resource['Type']}) has no {tag_property}"
        assert {tag["Key"]: tag["Value"] for tag in tags} == {"Project": "lego-api", "Environment": "staging"}, name
        tagged += 1
    # The topic, 12 alarms, the dashboard, the sampling rule and the budget.
    assert tagged == 16


def test_parameters_per_stage():
    template = load_template()
    params = template["Parameters"]
    assert params["Stage"]["AllowedValues"] == ["dev", "staging", "prod"]
    assert {"DataStackName", "AlertEmail", "MonthlyBudget", "RunbookUrl", "SnapStart"} <= set(params)
    assert template["Mappings"]["Environments"] == {
        "dev": {"Name": "dev"},
        "staging": {"Name": "staging"},
        "prod": {"Name": "production"},
    }
    assert re.fullmatch(params["AlertEmail"]["AllowedPattern"], "ops@example.com")
    assert not re.fullmatch(params["AlertEmail"]["AllowedPattern"], "not an address")
