"""The dns stack's template (infra/dns.py, committed as infra/templates/dns.json): two weighted CNAMEs for the API
domain, the weights as parameters, a low TTL, a health check on this API's record, the cost tags; created in moto's
CloudFormation and read back from moto's Route53."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra import build, dns
from infra.common import stack_name
from tests.infra.dns_stack import (
    HEALTH_HOST,
    NEW_TARGET,
    OLD_TARGET,
    REGION,
    TEMPLATE,
    create_dns_stack,
    weighted_records,
)


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def committed() -> dict:
    return json.loads(TEMPLATE.read_text())


def test_the_committed_template_is_what_the_source_generates():
    assert TEMPLATE.read_text() == build.render("dns")
    assert stack_name("dns", "prod") == "lego-api-dns-prod"


def test_the_stack_creates_one_weighted_record_per_target(aws):
    zone_id = create_dns_stack("prod", new_weight=10, old_weight=90)
    records = weighted_records(zone_id)
    assert set(records) == {dns.OLD_SET_IDENTIFIER, dns.NEW_SET_IDENTIFIER}
    old, new = records[dns.OLD_SET_IDENTIFIER], records[dns.NEW_SET_IDENTIFIER]
    assert (old["Type"], old["Weight"], old["ResourceRecords"]) == ("CNAME", 90, [{"Value": OLD_TARGET}])
    assert (new["Type"], new["Weight"], new["ResourceRecords"]) == ("CNAME", 10, [{"Value": NEW_TARGET}])
    assert old["TTL"] == new["TTL"] == 60
    assert "HealthCheckId" not in old  # the old API is the fallback: never taken out of the answers


def test_this_apis_record_carries_a_health_check_of_the_stage(aws):
    zone_id = create_dns_stack("prod")
    health_check_id = weighted_records(zone_id)[dns.NEW_SET_IDENTIFIER]["HealthCheckId"]
    config = boto3.client("route53", region_name=REGION).get_health_check(HealthCheckId=health_check_id)
    config = config["HealthCheck"]["HealthCheckConfig"]
    assert config["Type"] == "HTTPS"
    assert config["FullyQualifiedDomainName"] == HEALTH_HOST
    assert config["ResourcePath"] == "/prod/health"
    assert (config["RequestInterval"], config["FailureThreshold"]) == (30, 3)
    # moto keeps neither SNI nor the checker regions: read from the template (the execute-api host needs SNI).
    template_config = committed()["Resources"]["NewApiHealthCheck"]["Properties"]["HealthCheckConfig"]
    assert template_config["EnableSNI"] is True
    assert template_config["Regions"] == dns.HEALTH_CHECK_REGIONS


def test_a_new_stack_sends_nothing_to_this_api():
    parameters = committed()["Parameters"]
    assert parameters["OldApiWeight"]["Default"] == 100
    assert parameters["NewApiWeight"]["Default"] == 0
    for name in ("OldApiWeight", "NewApiWeight"):
        assert (parameters[name]["MinValue"], parameters[name]["MaxValue"]) == (0, 100)
    assert parameters["HostedZoneId"]["Type"] == "AWS::Route53::HostedZone::Id"


def test_every_taggable_resource_carries_the_cost_tags():
    resources = committed()["Resources"]
    health = resources["NewApiHealthCheck"]
    tags = {tag["Key"]: tag["Value"] for tag in health["Properties"]["HealthCheckTags"]}
    assert tags["Project"] == "lego-api"
    assert tags["Environment"] == {"Ref": "Stage"}
    # Route53 record sets take no tags; nothing else is in the stack.
    assert {resource["Type"] for resource in resources.values()} == {
        "AWS::Route53::HealthCheck",
        "AWS::Route53::RecordSetGroup",
    }


def test_both_records_change_in_one_resource():
    """One RecordSetGroup: CloudFormation sends both weights in one Route53 change batch."""
    group = committed()["Resources"][dns.RECORDS]["Properties"]
    assert [record["SetIdentifier"] for record in group["RecordSets"]] == [
        dns.OLD_SET_IDENTIFIER,
        dns.NEW_SET_IDENTIFIER,
    ]
    assert {record["Name"]["Ref"] for record in group["RecordSets"]} == {"DomainName"}
