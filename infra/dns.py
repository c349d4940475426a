"""The cutover records (`lego-api-dns-{stage}`): the API's domain as two Route53 weighted CNAMEs, one to the old API
and one to this API's custom domain, with the weights as parameters. `make cutover STAGE=prod WEIGHT=10` moves the
weights by updating this stack's parameters (infra/cutover.py); docs/cutover.md has the phases.

A Route53 health check probes this API's `/health` on its stage URL (503 when the database is down) and is attached
to its record: while it fails, Route53 stops answering with this API (as long as the old target is there to answer),
so a broken stage sheds its share of traffic within about 1.5 minutes plus the TTL even before anyone runs
`WEIGHT=0`. The old API keeps no health check: it is the fallback, and Route53 answers with every record when all of
them are unhealthy anyway."""

from __future__ import annotations

from troposphere import Output, Parameter, Ref, Sub
from troposphere.route53 import HealthCheck, HealthCheckConfig, RecordSet, RecordSetGroup

from infra.common import cost_tags, new_template

TTL_SECONDS = 60  # resolvers pick up a weight change (or WEIGHT=0) within a minute of Route53 having it
RECORDS = "ApiRecords"
# SetIdentifiers: what tells the two weighted records of one name apart (and what the cutover tests look for).
OLD_SET_IDENTIFIER = "old-api"
NEW_SET_IDENTIFIER = "lego-api"
# Three checker regions (the fewest Route53 takes): each probe is a Lambda invocation of the full health check.
HEALTH_CHECK_REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def _weight(name: str, default: int, who: str) -> Parameter:
    return Parameter(
        name,
        Type="Number",
        Default=default,
        MinValue=0,
        MaxValue=100,
        Description=f"share of the API domain's answers for {who}, in percent (the two weights add up to 100)",
    )


def template():
    t = new_template("LEGO Projects API: weighted DNS records moving the API domain from the old API to this one")
    zone = t.add_parameter(
        Parameter("HostedZoneId", Type="AWS::Route53::HostedZone::Id", Description="the zone holding the domain")
    )
    domain = t.add_parameter(
        Parameter("DomainName", Type="String", Description="the API's domain, e.g. api.example.com (not the apex)")
    )
    old_target = t.add_parameter(
        Parameter("OldApiTarget", Type="String", Description="the old API's DNS name (what the domain points at today)")
    )
    new_target = t.add_parameter(
        Parameter(
            "NewApiTarget",
            Type="String",
            Description="this API's custom domain target: the API Gateway regional domain name (d-….execute-api…)",
        )
    )
    health_host = t.add_parameter(
        Parameter(
            "NewApiHealthCheckHost",
            Type="String",
            Description="the stage's execute-api host ({rest-api-id}.execute-api.{region}.amazonaws.com) probed for health",
        )
    )
    old_weight = t.add_parameter(_weight("OldApiWeight", 100, "the old API"))
    new_weight = t.add_parameter(_weight("NewApiWeight", 0, "this API"))

    health = t.add_resource(
        HealthCheck(
            "NewApiHealthCheck",
            HealthCheckConfig=HealthCheckConfig(
                Type="HTTPS",
                FullyQualifiedDomainName=Ref(health_host),  # sent as SNI and Host: the execute-api host answers it
                Port=443,
                EnableSNI=True,
                ResourcePath=Sub("/${Stage}/health"),  # the full check: 503 when the database is down
                RequestInterval=30,
                FailureThreshold=3,
                Regions=HEALTH_CHECK_REGIONS,
            ),
            HealthCheckTags=cost_tags(Name=Sub("lego-api-${Stage}-health")),
        )
    )
    # One RecordSetGroup: CloudFormation changes both weights in one Route53 change batch (atomically).
    common = {"Name": Ref(domain), "Type": "CNAME", "TTL": str(TTL_SECONDS)}
    t.add_resource(
        RecordSetGroup(
            RECORDS,
            HostedZoneId=Ref(zone),
            Comment=Sub("lego-api ${Stage}: the old API and this one, weighted"),
            RecordSets=[
                RecordSet(
                    SetIdentifier=OLD_SET_IDENTIFIER,
                    Weight=Ref(old_weight),
                    ResourceRecords=[Ref(old_target)],
                    **common,
                ),
                RecordSet(
                    SetIdentifier=NEW_SET_IDENTIFIER,
                    Weight=Ref(new_weight),
                    ResourceRecords=[Ref(new_target)],
                    HealthCheckId=Ref(health),
                    **common,
                ),
            ],
        )
    )
    t.add_output(Output("NewApiHealthCheckId", Value=Ref(health)))
    t.add_output(Output("NewApiWeight", Value=Ref(new_weight)))
    t.add_output(Output("OldApiWeight", Value=Ref(old_weight)))
    return t
