"""`make infra-outputs STAGE=…` (infra.outputs) against a CloudFormation stack in moto.

moto's CloudFormation models the VPC, subnets, security groups and buckets but skips RDS Proxy, ElastiCache,
OpenSearch, Cognito and secrets. So the stack under test is the committed data template cut down to the resources
moto models (their real definitions: the AZ choice, the Sub-built names), keeping every output with its real name:
an output whose resources moto cannot build takes its value from a parameter, filled from objects created through
moto's own Cognito and Secrets Manager APIs (or, for the stores moto cannot make, a stand-in endpoint). The settings
file is a temporary copy of the committed zappa_settings.json, and Zappa's own loader reads the result."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
from zappa.cli import ZappaCLI

from infra import outputs as infra_outputs
from tests.infra.data_helpers import REGION, load_template, moto_environment

ROOT = Path(__file__).resolve().parents[2]
MODELED = {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::S3::Bucket"}
WEB_ORIGIN = "https://dev.lego.example"
STAND_INS = {
    "DbInstanceId": "lego-dev-db",
    "DbProxyName": "lego-api-dev",
    "DbProxyEndpoint": "lego-api-dev.proxy-abc.us-east-1.rds.amazonaws.com",
    "CacheReplicationGroupId": "lego-dev-cache",
    "CachePrimaryEndpoint": "master.lego-dev-cache.abc.use1.cache.amazonaws.com",
    "SearchDomainName": "lego-api-dev",
    "SearchDomainEndpoint": "vpc-lego-api-dev-abc.us-east-1.es.amazonaws.com",
}
WRITTEN_STAGE_KEYS = {"vpc_config", "s3_bucket", "extra_permissions", "aws_environment_variables"}


@pytest.fixture
def aws(monkeypatch):
    yield from moto_environment(monkeypatch)


def references(value: Any) -> set[str]:
    """The logical names a template value refers to (Ref, GetAtt, and `${Name}`/`${Name.Attr}` in Sub)."""
    if isinstance(value, list):
        return set().union(*(references(item) for item in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if "Ref" in value:
        return {value["Ref"]}
    if "Fn::GetAtt" in value:
        return {value["Fn::GetAtt"][0]}
    if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return {name.split(".")[0] for name in re.findall(r"\$\{([^}]+)\}", value["Fn::Sub"])}
    return set().union(*(references(item) for item in value.values())) if value else set()


def moto_template(drop_outputs: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """The data template cut to what moto's CloudFormation builds; returns it and the outputs fed by parameters."""
    real = load_template("data")
    resources = {
        name: {key: value for key, value in body.items() if key != "DeletionPolicy" and key != "UpdateReplacePolicy"}
        for name, body in real["Resources"].items()
        if body["Type"] in MODELED and "Condition" not in body
    }
    parameters = dict(real["Parameters"])
    outputs, fed = {}, []
    for name, output in real["Outputs"].items():
        if name in drop_outputs:
            continue
        if references(output["Value"]) <= set(resources) | set(parameters) | {"AWS::StackName", "AWS::Region"}:
            outputs[name] = output
        else:
            parameters[f"Given{name}"] = {"Type": "String"}
            outputs[name] = {**output, "Value": {"Ref": f"Given{name}"}}
            fed.append(name)
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": parameters,
        "Conditions": real["Conditions"],
        "Resources": resources,
        "Outputs": outputs,
    }
    return template, fed


def given_values() -> dict[str, str]:
    """Outputs of resources moto's CloudFormation skips, from moto's own APIs (stand-ins for the stores)."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName="lego-api-dev", UsernameAttributes=["email"])["UserPool"]
    client = cognito.create_user_pool_client(UserPoolId=pool["Id"], ClientName="lego-api-dev-web")["UserPoolClient"]
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="lego-api/dev", SecretString=json.dumps({"SECRET_KEY": "k"})
    )
    return {
        **STAND_INS,
        "UserPoolId": pool["Id"],
        "UserPoolArn": pool["Arn"],
        "UserPoolClientId": client["ClientId"],
        "AppSecretArn": secret["ARN"],
    }


def create_stack(stage: str = "dev", drop_outputs: tuple[str, ...] = ()) -> str:
    template, fed = moto_template(drop_outputs)
    given = given_values()
    name = f"lego-api-data-{stage}"
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": stage},
            {"ParameterKey": "WebOrigin", "ParameterValue": WEB_ORIGIN},
            *({"ParameterKey": f"Given{output}", "ParameterValue": given[output]} for output in fed),
        ],
    )
    return name


def stack_resource_ids(name: str) -> dict[str, str]:
    described = boto3.client("cloudformation", region_name=REGION).describe_stack_resources(StackName=name)
    return {resource["LogicalResourceId"]: resource["PhysicalResourceId"] for resource in described["StackResources"]}


@pytest.fixture
def settings_file(tmp_path) -> Path:
    path = tmp_path / "zappa_settings.json"
    shutil.copyfile(ROOT / "zappa_settings.json", path)
    return path


def zappa_stage(path: Path, stage: str) -> dict[str, Any]:
    """The stage's settings as Zappa itself resolves them (extends included)."""
    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings_file(str(path))
    return json.loads(json.dumps(cli.stage_config))


def run(settings_file: Path, stage: str = "dev") -> int:
    return infra_outputs.main(["--stage", stage, "--settings", str(settings_file)])


def test_writes_the_stack_outputs_into_the_stage_and_its_worker(aws, settings_file, capsys):
    name = create_stack("dev")
    before = json.loads(settings_file.read_text())
    assert run(settings_file) == 0

    ids = stack_resource_ids(name)
    ec2 = boto3.client("ec2", region_name=REGION)
    subnets = ec2.describe_subnets(SubnetIds=[ids["PrivateSubnetA"], ids["PrivateSubnetB"]])["Subnets"]
    assert {subnet["VpcId"] for subnet in subnets} == {ids["Vpc"]}
    assert len({subnet["AvailabilityZone"] for subnet in subnets}) == 2  # the real AZ choice, two zones
    group = ec2.describe_security_groups(GroupIds=[ids["LambdaSecurityGroup"]])["SecurityGroups"][0]
    secret = boto3.client("secretsmanager", region_name=REGION).describe_secret(SecretId="lego-api/dev")
    pool_id = boto3.client("cognito-idp", region_name=REGION).list_user_pools(MaxResults=10)["UserPools"][0]["Id"]

    for stage in ("dev", "dev-worker"):
        config = zappa_stage(settings_file, stage)
        assert config["vpc_config"] == {
            "SubnetIds": [ids["PrivateSubnetA"], ids["PrivateSubnetB"]],
            "SecurityGroupIds": [group["GroupId"]],
        }
        assert config["s3_bucket"] == ids["DeploymentBucket"] == "lego-api-dev-zappa-123456789012"
        variables = config["aws_environment_variables"]
        assert variables["SECRETS_ID"] == secret["Name"] == "lego-api/dev"
        assert variables["STORAGE_BUCKET"] == ids["MediaBucket"] == "lego-api-dev-media-123456789012"
        assert variables["COGNITO_USER_POOL_ID"] == pool_id
        assert variables["COGNITO_APP_CLIENT_ID"]
        assert variables["CORS_ALLOWED_ORIGINS"] == WEB_ORIGIN
        secret_statement, cognito_statement = config["extra_permissions"]
        assert secret_statement["Resource"] == secret["ARN"]
        assert secret_statement["Action"] == ["secretsmanager:GetSecretValue"]
        assert cognito_statement["Resource"].endswith(f"userpool/{pool_id}")
        assert config["timeout_seconds"] == (900 if stage == "dev-worker" else 30)  # the rest is still there
        left = infra_outputs.placeholders(config)
        assert left == ["aws_environment_variables.ALLOWED_HOSTS"]  # the API's domain: not the data stack's
    # The buckets the outputs name are the stack's own.
    buckets = {bucket["Name"] for bucket in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]}
    assert {ids["MediaBucket"], ids["DeploymentBucket"]} <= buckets

    after = json.loads(settings_file.read_text())
    assert settings_file.read_text() == json.dumps(after, indent=2, ensure_ascii=False) + "\n"
    for entry in before:
        if entry != "dev":
            assert after[entry] == before[entry], entry  # common, the worker (inherits) and the other stages
    assert {key for key in after["dev"] if after["dev"][key] != before["dev"].get(key)} == WRITTEN_STAGE_KEYS
    untouched = {
        key: value for key, value in before["dev"]["aws_environment_variables"].items() if "REPLACE" not in value
    }
    untouched.pop("SECRETS_ID")
    assert untouched.items() <= after["dev"]["aws_environment_variables"].items()
    printed = capsys.readouterr().out
    assert "lego-api-data-dev" in printed and "ALLOWED_HOSTS" in printed


def test_running_it_again_changes_nothing_and_keeps_an_origin_set_by_hand(aws, settings_file):
    create_stack("dev")
    assert run(settings_file) == 0
    settings = json.loads(settings_file.read_text())
    settings["dev"]["aws_environment_variables"]["CORS_ALLOWED_ORIGINS"] = "https://dev.lego.example,https://x.example"
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    first = settings_file.read_text()
    assert run(settings_file) == 0
    assert settings_file.read_text() == first


def test_a_key_the_worker_sets_itself_is_written_there_too(aws, settings_file):
    name = create_stack("dev")
    settings = json.loads(settings_file.read_text())
    settings["dev-worker"]["s3_bucket"] = "lego-api-zappa-REPLACE-ME"
    settings["dev-worker"]["aws_environment_variables"] = {"STORAGE_BUCKET": "REPLACE", "EXTRA": "kept"}
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    assert run(settings_file) == 0
    ids = stack_resource_ids(name)
    worker = zappa_stage(settings_file, "dev-worker")
    assert worker["s3_bucket"] == ids["DeploymentBucket"]
    assert worker["aws_environment_variables"]["STORAGE_BUCKET"] == ids["MediaBucket"]
    assert worker["aws_environment_variables"]["EXTRA"] == "kept"
    assert worker["vpc_config"]["SubnetIds"] == [ids["PrivateSubnetA"], ids["PrivateSubnetB"]]  # inherited
    assert "vpc_config" not in json.loads(settings_file.read_text())["dev-worker"]


def test_a_stage_whose_stack_is_missing_is_refused_and_nothing_is_written(aws, settings_file, capsys):
    create_stack("dev")  # another stage's stack exists
    original = settings_file.read_bytes()
    assert run(settings_file, "staging") == 1
    error = capsys.readouterr().err
    assert "lego-api-data-staging does not exist" in error and "unchanged" in error
    assert settings_file.read_bytes() == original


def test_a_stack_without_an_output_is_refused_and_nothing_is_written(aws, settings_file, capsys):
    create_stack("dev", drop_outputs=("UserPoolClientId", "PrivateSubnetB"))
    original = settings_file.read_bytes()
    assert run(settings_file) == 1
    error = capsys.readouterr().err
    assert "no output PrivateSubnetB, UserPoolClientId" in error
    assert settings_file.read_bytes() == original


def test_an_unknown_stage_is_refused(aws, settings_file, capsys):
    original = settings_file.read_bytes()
    assert run(settings_file, "qa") == 1
    assert "unknown stage 'qa'" in capsys.readouterr().err
    assert settings_file.read_bytes() == original


def test_every_output_it_reads_is_in_the_template():
    assert set(infra_outputs.REQUIRED_OUTPUTS) <= set(load_template("data")["Outputs"])
