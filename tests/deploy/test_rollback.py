"""`make rollback STAGE=…` on a SnapStart stage moves Zappa's `snapstart` alias to an earlier published version
(no upload, no new snapshot), against moto's Lambda."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from tools import packaging

FUNCTION = "lego-api-dev"  # the dev stage's lambda_name


def code(marker: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", f"def lambda_handler(event, context):\n    return {marker!r}\n")
    return buffer.getvalue()


@pytest.fixture
def lambda_client(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "*"}]}
        role = iam.create_role(
            RoleName="lego-api-dev-ZappaLambdaExecutionRole", AssumeRolePolicyDocument=json.dumps(trust)
        )
        client = boto3.client("lambda", region_name="us-east-1")
        client.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="handler.lambda_handler",
            Code={"ZipFile": code("first")},
        )
        yield client


def deploy(client, marker: str) -> str:
    """What Zappa 0.63 does on a SnapStart update: publish the code, publish again for the configuration, and point
    the `snapstart` alias at the newest version."""
    client.update_function_code(FunctionName=FUNCTION, ZipFile=code(marker), Publish=True)
    version = client.publish_version(FunctionName=FUNCTION)["Version"]
    try:
        client.update_alias(FunctionName=FUNCTION, Name="snapstart", FunctionVersion=version)
    except client.exceptions.ResourceNotFoundException:
        client.create_alias(FunctionName=FUNCTION, Name="snapstart", FunctionVersion=version)
    return version


def code_of(client, version: str) -> str:
    return client.get_function(FunctionName=FUNCTION, Qualifier=version)["Configuration"]["CodeSha256"]


def test_rollback_moves_the_snapstart_alias_to_the_previous_code(lambda_client):
    versions = [deploy(lambda_client, marker) for marker in ("v1", "v2", "v3")]
    uploads_before = len(lambda_client.list_versions_by_function(FunctionName=FUNCTION)["Versions"])

    served = packaging.rollback("dev", lambda_client=lambda_client, log=lambda _: None)

    assert served == versions[1]
    assert lambda_client.get_alias(FunctionName=FUNCTION, Name="snapstart")["FunctionVersion"] == versions[1]
    assert code_of(lambda_client, served) != code_of(lambda_client, versions[2])
    # No new version was published: the old one is served with its own snapshot.
    assert len(lambda_client.list_versions_by_function(FunctionName=FUNCTION)["Versions"]) == uploads_before

    assert packaging.rollback("dev", lambda_client=lambda_client, log=lambda _: None) == versions[0]
    assert code_of(lambda_client, versions[0]) != code_of(lambda_client, versions[1])


def test_rollback_steps_back_over_code_versions_not_published_versions(lambda_client):
    versions = [deploy(lambda_client, marker) for marker in ("v1", "v2", "v3")]

    served = packaging.rollback("dev", 2, lambda_client=lambda_client, log=lambda _: None)

    assert served == versions[0]
    assert lambda_client.get_alias(FunctionName=FUNCTION, Name="snapstart")["FunctionVersion"] == versions[0]


def test_rollback_past_the_oldest_kept_version_changes_nothing(lambda_client):
    versions = [deploy(lambda_client, marker) for marker in ("v1", "v2")]

    with pytest.raises(packaging.PackagingError, match="earlier code version"):
        packaging.rollback("dev", 5, lambda_client=lambda_client, log=lambda _: None)

    assert lambda_client.get_alias(FunctionName=FUNCTION, Name="snapstart")["FunctionVersion"] == versions[1]


def test_worker_stages_have_no_alias_to_move():
    with pytest.raises(packaging.PackagingError, match="does not use SnapStart"):
        packaging.rollback("dev-worker", lambda_client=object())
