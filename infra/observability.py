"""The observability stack `lego-api-observability-{stage}` (issue 13 item 2): the CloudWatch dashboard
`LEGO-API-Serverless-{Stage}`, the alert topic `lego-api-serverless-alerts-{Stage}` with its email subscription,
the PRD alarms (each named `lego-api-{stage}-<slug>`, each description linking to `docs/runbook.md#<slug>`), the
metric filters that turn the API function's log lines into metrics (cold start from the REPORT lines, 5xx by
`errorType` from the JSON request log), the X-Ray sampling rule and the monthly budget.

It reads the data stack's exports (`${DataStackName}-DbInstanceId`, `-DbProxyName`, `-CacheReplicationGroupId`,
`-SearchDomainName`, `-MediaBucketName`) and Zappa's
names (functions `lego-api-{stage}` and `lego-api-{stage}-worker`, REST API `lego-api-{stage}`, log group
`/aws/lambda/lego-api-{stage}`). Deploy it after the first `make deploy` of the stage: a metric filter needs its
log group, which Lambda creates on the function's first invocation (Zappa's deploy calls `/health`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from troposphere import (
    Equals,
    FindInMap,
    ImportValue,
    Join,
    Output,
    Parameter,
    Ref,
    Sub,
    Template,
)
from troposphere.budgets import (
    Budget,
    BudgetData,
    Expression,
    Notification,
    NotificationWithSubscribers,
    ResourceTag,
    Spend,
    Subscriber,
    TagValues,
)
from troposphere.cloudwatch import Alarm, Dashboard, Metric, MetricDataQuery, MetricDimension, MetricStat
from troposphere.logs import Dimension, MetricFilter, MetricTransformation, QueryDefinition
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy
from troposphere.xray import SamplingRule, SamplingRuleProperty

from infra.common import PROJECT, cost_tags, new_template

# What the API writes (lego_api/core/metrics.py): namespace `LegoApi`, one dimension `Environment` whose value is
# the stage's ENVIRONMENT variable in zappa_settings.json (`production` for prod).
EMF_NAMESPACE = "LegoApi"
ENVIRONMENT_BY_STAGE = {"dev": "dev", "staging": "staging", "prod": "production"}
# Every `metrics.emit`/`emit_on_commit` name in lego_api and the apps (tests/infra check the list against the code).
BUSINESS_METRICS = (
    "MocsCreated",
    "FilesUploaded",
    "PartsListsParsed",
    "SearchesPerformed",
    "SearchFallbacks",
    "GalleryImagesUploaded",
    "GalleryImagesProcessed",
)
LATENCY_METRIC = "RequestLatency"  # per request, milliseconds (RequestContextMiddleware)

# The metrics our metric filters publish from the API function's logs: one namespace per stage, since a metric
# filter cannot add a constant dimension.
LOG_NAMESPACE = "LegoApi/Logs/${Stage}"
COLD_START_METRIC = "ColdStartDuration"  # Init Duration and (SnapStart) Restore Duration, milliseconds
SERVER_ERRORS_METRIC = "ServerErrors"  # 5xx request log lines, all error types
SERVER_ERRORS_BY_TYPE_METRIC = "ServerErrorsByType"  # the same, dimensioned by ErrorType

# Space-delimited patterns for the REPORT line Lambda writes after each invocation, e.g.
#   REPORT RequestId: 8f5c… Duration: 102.25 ms Billed Duration: 103 ms Memory Size: 2048 MB Max Memory Used:
#   120 MB Init Duration: 812.33 ms
# (Lambda separates the fields with tabs; a traced invocation appends an `XRAY TraceId: …` line, hence the final
# `...`). The cold start's own field follows `Max Memory Used: <n> MB`: `Init Duration` on a fresh environment,
# `Restore Duration` on one restored from a SnapStart snapshot.
# Each field: its name and, for the labels and units, the text it must be (AWS's own pattern for the REPORT line's
# memory fields reads the same way).
REPORT_FIELDS = (
    ("type", "REPORT"),
    ("request_id_label", "RequestId:"),
    ("request_id", None),
    ("duration_label", "Duration:"),
    ("duration", None),
    ("duration_unit", "ms"),
    ("billed_label", "Billed"),
    ("billed_duration_label", "Duration:"),
    ("billed_duration", None),
    ("billed_unit", "ms"),
    ("memory_label", "Memory"),
    ("memory_size_label", "Size:"),
    ("memory_size", None),
    ("memory_unit", "MB"),
    ("max_label", "Max"),
    ("max_memory_label", "Memory"),
    ("max_used_label", "Used:"),
    ("max_memory_used", None),
    ("max_memory_unit", "MB"),
)


def report_pattern(kind: str) -> str:
    """The filter pattern matching REPORT lines whose cold-start field is `<kind> Duration: <n> ms`; the duration is
    the field `cold_start` (the metric value `$cold_start`)."""
    fields = [
        *REPORT_FIELDS,
        ("cold_label", kind),
        ("cold_duration_label", "Duration:"),
        ("cold_start", None),
        ("cold_unit", "ms"),
    ]
    named = [name if text is None else f'{name}="{text}"' for name, text in fields]
    return "[" + ", ".join([*named, "..."]) + "]"


# The JSON request log line (lego_api/core/middleware.py, lego_api/core/logging.py): `logger` is
# `lego_api.request`, `status` the response status, `errorType` the envelope's error type.
SERVER_ERROR_PATTERN = '{ ($.logger = "lego_api.request") && ($.status >= 500) }'

DASHBOARD_PERIOD = 60
DASHBOARD_START = "-PT24H"
# The data stack's replication group: a primary and one replica (cluster mode disabled), nodes `<id>-001`/`-002`.
CACHE_NODES = ("001", "002")
# The S3 request metrics configuration on the media bucket (CloudWatch has no S3 request metrics without one).
S3_FILTER_ID_DEFAULT = "EntireBucket"
MIB = 1024 * 1024


# --- Alarms ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmSpec:
    """One PRD alarm: `lego-api-{stage}-<slug>`, its runbook section `docs/runbook.md#<slug>`."""

    slug: str
    summary: str
    threshold: float
    comparison: str
    period: int
    evaluation_periods: int
    datapoints: int
    treat_missing: str
    # Either one metric (namespace, name, statistic, dimensions) or metric math (expression over `queries`).
    namespace: str = ""
    metric: str = ""
    statistic: str = ""
    dimensions: dict[str, Any] = field(default_factory=dict)
    expression: str = ""
    queries: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = ()  # (id, namespace, metric, stat, dims)


API_FUNCTION = "lego-api-${Stage}"
WORKER_FUNCTION = "lego-api-${Stage}-worker"
REST_API = "lego-api-${Stage}"  # Zappa names its REST API after the function (zappa/core.py create_stack_template)


def _fn(name: str) -> dict[str, Any]:
    return {"FunctionName": Sub(name)}


def _error_rate(slug: str, function: str, who: str) -> AlarmSpec:
    return AlarmSpec(
        slug=slug,
        summary=f"{who} error rate above 5% over 5 minutes",
        threshold=5,
        comparison="GreaterThanThreshold",
        period=300,
        evaluation_periods=1,
        datapoints=1,
        treat_missing="notBreaching",  # no invocations: nothing failed
        expression="IF(invocations > 0, 100 * errors / invocations, 0)",
        queries=(
            ("errors", "AWS/Lambda", "Errors", "Sum", _fn(function)),
            ("invocations", "AWS/Lambda", "Invocations", "Sum", _fn(function)),
        ),
    )


def _throttles(slug: str, function: str, who: str) -> AlarmSpec:
    return AlarmSpec(
        slug=slug,
        summary=f"{who} throttled more than 10 times over 5 minutes",
        threshold=10,
        comparison="GreaterThanThreshold",
        period=300,
        evaluation_periods=1,
        datapoints=1,
        treat_missing="notBreaching",  # Lambda publishes Throttles only when there were some
        namespace="AWS/Lambda",
        metric="Throttles",
        statistic="Sum",
        dimensions=_fn(function),
    )


def _imported(output: str) -> ImportValue:
    return ImportValue(Sub("${DataStackName}-" + output))


def alarm_specs() -> list[AlarmSpec]:
    api = {"ApiName": Sub(REST_API)}
    cache_primary = {
        "CacheClusterId": Sub("${CacheId}-" + CACHE_NODES[0], CacheId=_imported("CacheReplicationGroupId"))
    }
    return [
        _error_rate("api-error-rate", API_FUNCTION, "API function"),
        _error_rate("worker-error-rate", WORKER_FUNCTION, "Worker function"),
        _throttles("api-throttles", API_FUNCTION, "API function"),
        _throttles("worker-throttles", WORKER_FUNCTION, "Worker function"),
        AlarmSpec(
            slug="apigw-5xx-rate",
            summary="API Gateway 5xx rate above 3% over 5 minutes",
            threshold=3,
            comparison="GreaterThanThreshold",
            period=300,
            evaluation_periods=1,
            datapoints=1,
            treat_missing="notBreaching",  # no requests: no errors
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            queries=(
                ("errors", "AWS/ApiGateway", "5XXError", "Sum", api),
                ("requests", "AWS/ApiGateway", "Count", "Sum", api),
            ),
        ),
        AlarmSpec(
            slug="apigw-p99-latency",
            summary="API Gateway p99 latency above 3 s over 5 minutes",
            threshold=3000,
            comparison="GreaterThanThreshold",
            period=300,
            evaluation_periods=1,
            datapoints=1,
            treat_missing="notBreaching",  # no requests: nothing was slow
            namespace="AWS/ApiGateway",
            metric="Latency",
            statistic="p99",
            dimensions=api,
        ),
        AlarmSpec(
            slug="rds-cpu",
            summary="RDS CPU above 80% for 10 minutes",
            threshold=80,
            comparison="GreaterThanThreshold",
            period=300,
            evaluation_periods=2,
            datapoints=2,
            treat_missing="missing",  # RDS reports every minute; a gap keeps the last state (health shows an outage)
            namespace="AWS/RDS",
            metric="CPUUtilization",
            statistic="Average",
            dimensions={"DBInstanceIdentifier": _imported("DbInstanceId")},
        ),
        AlarmSpec(
            slug="rds-freeable-memory",
            summary="RDS freeable memory below 1 GiB for 10 minutes",
            threshold=1024 * MIB,
            comparison="LessThanThreshold",
            period=300,
            evaluation_periods=2,
            datapoints=2,
            treat_missing="missing",
            namespace="AWS/RDS",
            metric="FreeableMemory",
            statistic="Minimum",
            dimensions={"DBInstanceIdentifier": _imported("DbInstanceId")},
        ),
        AlarmSpec(
            slug="redis-evictions",
            summary="Redis evicting more than 100 keys a minute (3 of the last 5 minutes)",
            threshold=100,
            comparison="GreaterThanThreshold",
            period=60,
            evaluation_periods=5,
            datapoints=3,
            treat_missing="missing",
            namespace="AWS/ElastiCache",
            metric="Evictions",
            statistic="Sum",
            dimensions=cache_primary,  # evictions happen on the primary; replicas apply its deletes
        ),
        AlarmSpec(
            slug="opensearch-red",
            summary="OpenSearch cluster status red",
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            period=60,
            evaluation_periods=1,
            datapoints=1,
            treat_missing="breaching",  # the domain reports its status every minute: silence is no health
            namespace="AWS/ES",
            metric="ClusterStatus.red",
            statistic="Maximum",
            dimensions={"DomainName": _imported("SearchDomainName"), "ClientId": Ref("AWS::AccountId")},
        ),
        AlarmSpec(
            slug="cold-start",
            summary="API cold start (Init or SnapStart Restore Duration) p99 above 2 s over 5 minutes",
            threshold=2000,
            comparison="GreaterThanThreshold",
            period=300,
            evaluation_periods=1,
            datapoints=1,
            treat_missing="notBreaching",  # no cold start in the window
            namespace=LOG_NAMESPACE,
            metric=COLD_START_METRIC,
            statistic="p99",
        ),
        AlarmSpec(
            slug="server-errors",
            summary="5 or more 5xx responses logged by the API over 5 minutes (any errorType)",
            threshold=5,
            comparison="GreaterThanOrEqualToThreshold",
            period=300,
            evaluation_periods=1,
            datapoints=1,
            treat_missing="notBreaching",  # the filter publishes nothing while no line matches
            namespace=LOG_NAMESPACE,
            metric=SERVER_ERRORS_METRIC,
            statistic="Sum",
        ),
    ]


def _dimensions(dimensions: dict[str, Any]) -> list[MetricDimension]:
    return [MetricDimension(Name=name, Value=value) for name, value in dimensions.items()]


def _namespace(namespace: str) -> str | Sub:
    return Sub(namespace) if "${" in namespace else namespace


def _logical_id(slug: str) -> str:
    return "Alarm" + "".join(part.capitalize() for part in slug.replace("5xx", "FiveXx").split("-"))


def _alarm(spec: AlarmSpec, topic: Ref) -> Alarm:
    properties: dict[str, Any] = {
        "AlarmName": Sub(f"{PROJECT}-${{Stage}}-{spec.slug}"),
        "AlarmDescription": Sub(f"{spec.summary}. Runbook: ${{RunbookUrl}}#{spec.slug}"),
        "ActionsEnabled": True,
        "AlarmActions": [topic],
        "OKActions": [topic],
        "ComparisonOperator": spec.comparison,
        "Threshold": spec.threshold,
        "EvaluationPeriods": spec.evaluation_periods,
        "DatapointsToAlarm": spec.datapoints,
        "TreatMissingData": spec.treat_missing,
        "Tags": cost_tags(),
    }
    if spec.expression:
        queries = [
            MetricDataQuery(
                Id=query_id,
                ReturnData=False,
                MetricStat=MetricStat(
                    Metric=Metric(Namespace=namespace, MetricName=metric, Dimensions=_dimensions(dimensions)),
                    Period=spec.period,
                    Stat=stat,
                ),
            )
            for query_id, namespace, metric, stat, dimensions in spec.queries
        ]
        properties["Metrics"] = [
            MetricDataQuery(Id="rate", Expression=spec.expression, Label=f"{spec.slug} (%)", ReturnData=True),
            *queries,
        ]
    else:
        properties.update(Namespace=_namespace(spec.namespace), MetricName=spec.metric, Period=spec.period)
        if spec.dimensions:
            properties["Dimensions"] = _dimensions(spec.dimensions)
        if spec.statistic.startswith("p"):
            properties["ExtendedStatistic"] = spec.statistic
        else:
            properties["Statistic"] = spec.statistic
    return Alarm(_logical_id(spec.slug), **properties)


# --- Dashboard ------------------------------------------------------------------------------------------------

# Placeholders in the dashboard's JSON, filled by Fn::Sub: the stage's names and the data stack's exports.
DASHBOARD_VARIABLES = {
    "Environment": FindInMap("Environments", Ref("Stage"), "Name"),
    "DbInstanceId": _imported("DbInstanceId"),
    "DbProxyName": _imported("DbProxyName"),
    "CacheId": _imported("CacheReplicationGroupId"),
    "SearchDomain": _imported("SearchDomainName"),
    "MediaBucket": _imported("MediaBucketName"),
}


def _metric_widget(title: str, metrics: list[list[Any]], *, stat: str = "Sum", unit_label: str = "", **extra: Any):
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "region": "${AWS::Region}",
        "period": DASHBOARD_PERIOD,
        "stat": stat,
        "metrics": metrics,
    }
    if unit_label:
        properties["yAxis"] = {"left": {"label": unit_label, "showUnits": False}}
    properties.update(extra)
    return {"type": "metric", "properties": properties}


def _percentiles(namespace: str, metric: str, dimensions: list[str]) -> list[list[Any]]:
    return [
        [namespace, metric, *dimensions, {"stat": stat, "label": f"{metric} {stat}"}] for stat in ("p50", "p95", "p99")
    ]


def _function_widgets(name: str, who: str) -> list[dict[str, Any]]:
    dims = ["FunctionName", name]
    return [
        _metric_widget(
            f"{who}: invocations, errors, throttles",
            [["AWS/Lambda", metric, *dims, {"label": metric}] for metric in ("Invocations", "Errors", "Throttles")],
        ),
        _metric_widget(f"{who}: duration", _percentiles("AWS/Lambda", "Duration", dims), unit_label="ms"),
        _metric_widget(
            f"{who}: concurrency",
            [["AWS/Lambda", "ConcurrentExecutions", *dims, {"stat": "Maximum", "label": "ConcurrentExecutions"}]],
            stat="Maximum",
        ),
    ]


def dashboard_widgets() -> list[dict[str, Any]]:
    """The widgets, in order, with `${…}` placeholders (see DASHBOARD_VARIABLES); laid out two per row."""
    api = ["ApiName", REST_API]
    proxy = ["ProxyName", "${DbProxyName}"]
    search = ["DomainName", "${SearchDomain}", "ClientId", "${AWS::AccountId}"]
    bucket = ["BucketName", "${MediaBucket}", "FilterId", "${S3RequestMetricsFilterId}"]
    env = ["Environment", "${Environment}"]
    nodes = [["CacheClusterId", f"${{CacheId}}-{node}"] for node in CACHE_NODES]
    widgets = [
        *_function_widgets(API_FUNCTION, "API function"),
        *_function_widgets(WORKER_FUNCTION, "Worker function"),
        _metric_widget(
            "API Gateway: requests, 4xx, 5xx",
            [["AWS/ApiGateway", metric, *api, {"label": metric}] for metric in ("Count", "4XXError", "5XXError")],
        ),
        _metric_widget("API Gateway: latency", _percentiles("AWS/ApiGateway", "Latency", api), unit_label="ms"),
        _metric_widget(
            "RDS Proxy: connections",
            [
                ["AWS/RDS", "ClientConnections", *proxy, {"stat": "Maximum", "label": "ClientConnections"}],
                ["AWS/RDS", "DatabaseConnections", *proxy, {"stat": "Maximum", "label": "DatabaseConnections"}],
            ],
            stat="Maximum",
        ),
        _metric_widget(
            "RDS Proxy: connection borrow latency",
            [
                ["AWS/RDS", "DatabaseConnectionsBorrowLatency", *proxy, {"stat": stat, "label": f"borrow {stat}"}]
                for stat in ("Average", "p99")
            ],
            stat="Average",
            unit_label="microseconds",
        ),
        _metric_widget(
            "RDS: CPU and freeable memory",
            [
                ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "${DbInstanceId}", {"label": "CPU %"}],
                [
                    "AWS/RDS",
                    "FreeableMemory",
                    "DBInstanceIdentifier",
                    "${DbInstanceId}",
                    {"stat": "Minimum", "label": "FreeableMemory", "yAxis": "right"},
                ],
            ],
            stat="Average",
        ),
        _metric_widget(
            "Redis: cache hit rate and memory",
            [
                *(["AWS/ElastiCache", "CacheHitRate", *node, {"label": f"hit rate {node[1][-3:]}"}] for node in nodes),
                *(
                    [
                        "AWS/ElastiCache",
                        "DatabaseMemoryUsagePercentage",
                        *node,
                        {"label": f"memory % {node[1][-3:]}"},
                    ]
                    for node in nodes
                ),
            ],
            stat="Average",
            unit_label="%",
        ),
        _metric_widget(
            "Redis: evictions",
            [["AWS/ElastiCache", "Evictions", *node, {"label": f"evictions {node[1][-3:]}"}] for node in nodes],
        ),
        _metric_widget(
            "OpenSearch: cluster health",
            [["AWS/ES", f"ClusterStatus.{colour}", *search, {"label": colour}] for colour in ("red", "yellow")],
            stat="Maximum",
        ),
        _metric_widget(
            "OpenSearch: indexing and search latency",
            [["AWS/ES", metric, *search, {"label": metric}] for metric in ("IndexingLatency", "SearchLatency")],
            stat="Average",
            unit_label="ms",
        ),
        _metric_widget(
            "S3 media bucket: requests",
            [
                ["AWS/S3", metric, *bucket, {"label": metric}]
                for metric in ("AllRequests", "GetRequests", "PutRequests", "4xxErrors", "5xxErrors")
            ],
        ),
        _metric_widget(
            "Business: MOCs, files, parts lists, gallery",
            [
                [EMF_NAMESPACE, metric, *env, {"label": metric}]
                for metric in BUSINESS_METRICS
                if not metric.startswith("Search")
            ],
        ),
        _metric_widget(
            "Business: searches and fallbacks",
            [
                [EMF_NAMESPACE, metric, *env, {"label": metric}]
                for metric in BUSINESS_METRICS
                if metric.startswith("Search")
            ],
        ),
        _metric_widget(
            "Request latency (application, EMF)", _percentiles(EMF_NAMESPACE, LATENCY_METRIC, env), unit_label="ms"
        ),
        _metric_widget(
            "Cold starts (REPORT lines: Init / Restore Duration)",
            [
                [LOG_NAMESPACE, COLD_START_METRIC, {"stat": stat, "label": f"cold start {stat}"}]
                for stat in ("p50", "p99", "Maximum")
            ]
            + [[LOG_NAMESPACE, COLD_START_METRIC, {"stat": "SampleCount", "label": "cold starts", "yAxis": "right"}]],
            stat="p99",
            unit_label="ms",
        ),
        _metric_widget(
            "5xx responses by errorType (request log)",
            [
                [
                    {
                        "expression": f"SEARCH('{{{LOG_NAMESPACE},ErrorType}} MetricName=\"{SERVER_ERRORS_BY_TYPE_METRIC}\"', 'Sum', {DASHBOARD_PERIOD})",
                        "id": "bytype",
                    }
                ],
                [LOG_NAMESPACE, SERVER_ERRORS_METRIC, {"label": "all 5xx", "id": "total"}],
            ],
        ),
    ]
    width = 12
    for index, widget in enumerate(widgets):
        widget.update(x=(index % 2) * width, y=(index // 2) * 6, width=width, height=6)
    return widgets


def dashboard_body() -> str:
    """The DashboardBody JSON with `${…}` placeholders for Fn::Sub."""
    return json.dumps(
        {"start": DASHBOARD_START, "periodOverride": "inherit", "widgets": dashboard_widgets()},
        indent=None,
        separators=(",", ":"),
        ensure_ascii=False,
    )


# --- Template -------------------------------------------------------------------------------------------------


def _tag_list() -> list[ResourceTag]:
    """cost_tags() in the Key/Value list shape Budgets (ResourceTags) wants."""
    return [ResourceTag(Key=tag["Key"], Value=tag["Value"]) for tag in cost_tags().tags]


def _parameters(template: Template) -> None:
    template.add_parameter(
        Parameter(
            "DataStackName",
            Type="String",
            Description="the stage's data stack (lego-api-data-<stage>), whose exports name the RDS instance and "
            "proxy, the cache, the search domain and the media bucket",
            AllowedPattern="^[A-Za-z][A-Za-z0-9-]{0,127}$",
        )
    )
    template.add_parameter(
        Parameter(
            "AlertEmail",
            Type="String",
            Description="address subscribed to the alert topic (confirm the email AWS sends)",
            AllowedPattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        )
    )
    template.add_parameter(
        Parameter(
            "MonthlyBudget",
            Type="Number",
            Default=200,
            MinValue=1,
            Description="monthly cost budget in USD for resources tagged Project=lego-api, Environment=<stage>",
        )
    )
    template.add_parameter(
        Parameter(
            "RunbookUrl",
            Type="String",
            Description="URL of docs/runbook.md in the repository host (e.g. https://github.com/<org>/<repo>/blob/"
            "main/docs/runbook.md); each alarm links to its section",
            AllowedPattern="^https://\\S+$",
        )
    )
    template.add_parameter(
        Parameter(
            "SnapStart",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="whether the API function runs with SnapStart (zappa_settings.json snap_start): restored "
            "environments report Restore Duration instead of Init Duration",
        )
    )
    template.add_parameter(
        Parameter(
            "S3RequestMetricsFilterId",
            Type="String",
            Default=S3_FILTER_ID_DEFAULT,
            Description="the media bucket's request metrics configuration id (S3 publishes request metrics only "
            "for a configured filter)",
        )
    )
    template.add_parameter(
        Parameter(
            "XRaySamplingRate",
            Type="Number",
            Default=0.05,
            MinValue=0,
            MaxValue=1,
            Description="share of requests traced beyond the reservoir of 1 request a second",
        )
    )
    template.add_mapping(
        "Environments", {stage: {"Name": environment} for stage, environment in ENVIRONMENT_BY_STAGE.items()}
    )
    template.add_condition("HasSnapStart", Equals(Ref("SnapStart"), "true"))


def _topic(template: Template) -> Topic:
    topic = template.add_resource(
        Topic(
            "AlertTopic",
            TopicName=Sub("lego-api-serverless-alerts-${Stage}"),
            DisplayName=Sub("LEGO API ${Stage} alerts"),
            Tags=cost_tags(),
        )
    )
    template.add_resource(
        SubscriptionResource(
            "AlertEmailSubscription", TopicArn=Ref(topic), Protocol="email", Endpoint=Ref("AlertEmail")
        )
    )
    template.add_resource(
        TopicPolicy(
            "AlertTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudWatchAlarms",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": Ref(topic),
                        "Condition": {
                            "ArnLike": {
                                "aws:SourceArn": Sub(
                                    "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:lego-api-${Stage}-*"
                                )
                            },
                            "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")},
                        },
                    },
                    {
                        "Sid": "Budgets",
                        "Effect": "Allow",
                        "Principal": {"Service": "budgets.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": Ref(topic),
                        "Condition": {
                            "ArnLike": {"aws:SourceArn": Sub("arn:${AWS::Partition}:budgets::${AWS::AccountId}:*")},
                            "StringEquals": {"aws:SourceAccount": Ref("AWS::AccountId")},
                        },
                    },
                ],
            },
        )
    )
    return topic


def _metric_filters(template: Template) -> None:
    log_group = Sub("/aws/lambda/" + API_FUNCTION)
    cold_start = {"MetricNamespace": Sub(LOG_NAMESPACE), "MetricName": COLD_START_METRIC, "Unit": "Milliseconds"}
    template.add_resource(
        MetricFilter(
            "ColdStartInitFilter",
            FilterName=Sub(f"{PROJECT}-${{Stage}}-cold-start-init"),
            LogGroupName=log_group,
            FilterPattern=report_pattern("Init"),
            MetricTransformations=[MetricTransformation(MetricValue="$cold_start", **cold_start)],
        )
    )
    template.add_resource(
        MetricFilter(
            "ColdStartRestoreFilter",
            Condition="HasSnapStart",
            FilterName=Sub(f"{PROJECT}-${{Stage}}-cold-start-restore"),
            LogGroupName=log_group,
            FilterPattern=report_pattern("Restore"),
            MetricTransformations=[MetricTransformation(MetricValue="$cold_start", **cold_start)],
        )
    )
    template.add_resource(
        MetricFilter(
            "ServerErrorsFilter",
            FilterName=Sub(f"{PROJECT}-${{Stage}}-server-errors"),
            LogGroupName=log_group,
            FilterPattern=SERVER_ERROR_PATTERN,
            MetricTransformations=[
                MetricTransformation(
                    MetricNamespace=Sub(LOG_NAMESPACE), MetricName=SERVER_ERRORS_METRIC, MetricValue="1", Unit="Count"
                )
            ],
        )
    )
    template.add_resource(
        MetricFilter(
            "ServerErrorsByTypeFilter",
            FilterName=Sub(f"{PROJECT}-${{Stage}}-server-errors-by-type"),
            LogGroupName=log_group,
            # Lines without errorType (none today: every 5xx goes through the envelope) would publish nothing here
            # but still count in ServerErrors.
            FilterPattern='{ ($.logger = "lego_api.request") && ($.status >= 500) && ($.errorType = *) }',
            MetricTransformations=[
                MetricTransformation(
                    MetricNamespace=Sub(LOG_NAMESPACE),
                    MetricName=SERVER_ERRORS_BY_TYPE_METRIC,
                    MetricValue="1",
                    Unit="Count",
                    Dimensions=[Dimension(Key="ErrorType", Value="$.errorType")],
                )
            ],
        )
    )


# Logs Insights queries the runbook points at, saved per stage.
INSIGHTS_QUERIES = {
    "server-errors": (
        "5xx by errorType",
        'fields @timestamp, requestId, method, path, status, errorType, userId\n| filter logger = "lego_api.request" '
        "and status >= 500\n| stats count(*) as errors by errorType, method\n| sort errors desc",
    ),
    "slow-requests": (
        "slowest requests",
        'fields @timestamp, requestId, method, path, status, durationMs, userId\n| filter logger = "lego_api.request"'
        "\n| sort durationMs desc\n| limit 50",
    ),
    "cold-starts": (
        "cold starts",
        'filter @type = "REPORT" and (@message like /Init Duration/ or @message like /Restore Duration/)\n'
        "| parse @message /(Init|Restore) Duration: (?<coldMs>[0-9.]+) ms/\n"
        "| stats count(*) as coldStarts, pct(coldMs, 50) as p50, pct(coldMs, 99) as p99 by bin(5m)",
    ),
    "errors": (
        "error log lines",
        'fields @timestamp, level, logger, message, requestId\n| filter level = "ERROR"\n| sort @timestamp desc\n'
        "| limit 100",
    ),
}


def _insights_queries(template: Template) -> None:
    for key, (title, query) in INSIGHTS_QUERIES.items():
        template.add_resource(
            QueryDefinition(
                "Query" + "".join(part.capitalize() for part in key.split("-")),
                Name=Sub(f"{PROJECT}-${{Stage}}/{title}"),
                LogGroupNames=[Sub("/aws/lambda/" + API_FUNCTION)],
                QueryString=query,
            )
        )


def _budget(template: Template, topic: Topic) -> None:
    def notification(kind: str, percent: int) -> NotificationWithSubscribers:
        return NotificationWithSubscribers(
            Notification=Notification(
                NotificationType=kind, ComparisonOperator="GREATER_THAN", Threshold=percent, ThresholdType="PERCENTAGE"
            ),
            Subscribers=[Subscriber(SubscriptionType="SNS", Address=Ref(topic))],
        )

    template.add_resource(
        Budget(
            "MonthlyCostBudget",
            DependsOn="AlertTopicPolicy",  # Budgets checks it may publish when the notification is created
            Budget=BudgetData(
                BudgetName=Sub(f"{PROJECT}-${{Stage}}-monthly"),
                BudgetType="COST",
                TimeUnit="MONTHLY",
                BudgetLimit=Spend(Amount=Ref("MonthlyBudget"), Unit="USD"),
                Metrics=["UnblendedCost"],
                # The cost allocation tags (activate `Project` and `Environment` in Billing once per account).
                FilterExpression=Expression(
                    And=[
                        Expression(Tags=TagValues(Key="Project", Values=[PROJECT], MatchOptions=["EQUALS"])),
                        Expression(Tags=TagValues(Key="Environment", Values=[Ref("Stage")], MatchOptions=["EQUALS"])),
                    ]
                ),
            ),
            NotificationsWithSubscribers=[
                notification("ACTUAL", 80),
                notification("ACTUAL", 100),
                notification("FORECASTED", 100),
            ],
            ResourceTags=_tag_list(),
        )
    )


def _sampling_rule(template: Template) -> None:
    template.add_resource(
        SamplingRule(
            "ApiSamplingRule",
            SamplingRule=SamplingRuleProperty(
                RuleName=Sub(f"{PROJECT}-${{Stage}}"),
                Priority=100,
                ReservoirSize=1,  # one request a second traced, then…
                FixedRate=Ref("XRaySamplingRate"),  # …5% of the rest; decided before the outcome is known
                # The function (`lego-api-<stage>`), and API Gateway's `lego-api-<stage>/<stage>` should its stage
                # tracing be turned on. Lambda samples direct invocations itself, at the same 1/s + 5%.
                ServiceName=Sub(API_FUNCTION + "*"),
                ServiceType="*",
                Host="*",
                HTTPMethod="*",
                URLPath="*",
                ResourceARN="*",
                Version=1,
            ),
            Tags=cost_tags(),
        )
    )


def template() -> Template:
    template = new_template(
        "LEGO API observability for one stage: dashboard, alert topic, alarms, log metric filters, X-Ray sampling "
        "rule, monthly budget (issue 13 item 2)"
    )
    _parameters(template)
    topic = _topic(template)
    for spec in alarm_specs():
        template.add_resource(_alarm(spec, Ref(topic)))
    _metric_filters(template)
    _insights_queries(template)
    template.add_resource(
        Dashboard(
            "Dashboard",
            DashboardName=Sub("LEGO-API-Serverless-${Stage}"),
            DashboardBody=Sub(dashboard_body(), **DASHBOARD_VARIABLES),
            Tags=cost_tags(),
        )
    )
    _sampling_rule(template)
    _budget(template, topic)
    template.add_output(Output("AlertTopicArn", Value=Ref(topic), Description="the alert topic"))
    template.add_output(
        Output(
            "DashboardUrl",
            Value=Join(
                "",
                [
                    "https://console.aws.amazon.com/cloudwatch/home?region=",
                    Ref("AWS::Region"),
                    "#dashboards:name=",
                    Sub("LEGO-API-Serverless-${Stage}"),
                ],
            ),
        )
    )
    return template
