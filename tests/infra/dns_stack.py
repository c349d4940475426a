"""The dns stack (`lego-api-dns-{stage}`) created in moto from its committed template, as an operator creates it."""

from __future__ import annotations

from pathlib import Path

import boto3

from infra.common import stack_name

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "templates" / "dns.json"
REGION = "us-east-1"
DOMAIN = "api.example.com"
OLD_TARGET = "old-api.example.net"
NEW_TARGET = "d-abc123.execute-api.us-east-1.amazonaws.com"
HEALTH_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"


def create_dns_stack(stage: str, *, new_weight: int = 0, old_weight: int = 100) -> str:
    """The stack in moto (inside mock_aws) in a new hosted zone; returns the zone's id."""
    route53 = boto3.client("route53", region_name=REGION)
    zone = route53.create_hosted_zone(Name="example.com", CallerReference=f"zone-{stage}")["HostedZone"]["Id"]
    zone_id = zone.split("/")[-1]
    parameters = {
        "Stage": stage,
        "HostedZoneId": zone_id,
        "DomainName": DOMAIN,
        "OldApiTarget": OLD_TARGET,
        "NewApiTarget": NEW_TARGET,
        "NewApiHealthCheckHost": HEALTH_HOST,
        "NewApiWeight": str(new_weight),
        "OldApiWeight": str(old_weight),
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=stack_name("dns", stage),
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
    )
    return zone_id


def weighted_records(zone_id: str) -> dict[str, dict]:
    """The domain's records by SetIdentifier."""
    records = boto3.client("route53", region_name=REGION).list_resource_record_sets(HostedZoneId=zone_id)
    return {r["SetIdentifier"]: r for r in records["ResourceRecordSets"] if r["Name"].rstrip(".") == DOMAIN}
