"""Shared by the data stack's tests: the committed template, moto in-process with fake credentials, and the few
CloudFormation intrinsics (`Sub`, `Ref`, dynamic references) the tests evaluate to feed moto's own APIs."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from moto import mock_aws

from infra.build import template_path

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:secretsmanager:(.+?):SecretString:(\w+)\}\}")


def load_template(kind: str = "data") -> dict[str, Any]:
    return json.loads(Path(template_path(kind)).read_text())


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == resource_type}


def moto_environment(monkeypatch) -> Iterator[None]:
    """moto in this process: fake credentials, and none of the harness's endpoint overrides (they point boto3 at
    SeaweedFS and the moto server, which mock_aws would not intercept). Never real AWS."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        yield


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """Evaluate `Ref`, `Fn::Sub` (string form) and `Fn::GetAtt` against `variables` (`Name` or `Name.Attribute`)."""
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return variables[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        return variables[".".join(value["Fn::GetAtt"])]
    if set(value) == {"Fn::Sub"}:
        return re.sub(r"\$\{([^}]+)\}", lambda match: variables[match.group(1)], value["Fn::Sub"])
    return {key: substitute(item, variables) for key, item in value.items()}


def resolve_dynamic_references(text: str, secret_values: dict[str, dict[str, str]]) -> str:
    """What CloudFormation does with `{{resolve:secretsmanager:<arn>:SecretString:<key>}}`."""
    return DYNAMIC_REFERENCE.sub(lambda match: secret_values[match.group(1)][match.group(2)], text)


def tags_of(body: dict[str, Any], tag_property: str) -> dict[str, Any]:
    """A resource's tags as a map, whether the property is a list of Key/Value or a map (Cognito's UserPoolTags)."""
    tags = body.get("Properties", {}).get(tag_property)
    if isinstance(tags, list):
        return {tag["Key"]: tag["Value"] for tag in tags}
    return dict(tags or {})
