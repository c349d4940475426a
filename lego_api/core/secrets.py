"""Cold-start secret loading (SPEC §8 `SECRETS_ID`): a Secrets Manager secret or an SSM parameter path of JSON."""

from __future__ import annotations

import json
import os

import boto3


def load_secrets_into_environ(secrets_id: str) -> None:
    """Copy the secret's JSON values into os.environ; variables already set win (so a stage can override)."""
    if secrets_id.startswith("/"):
        values = _from_ssm(secrets_id)
    else:
        client = boto3.client("secretsmanager")
        values = json.loads(client.get_secret_value(SecretId=secrets_id)["SecretString"])
    for key, value in values.items():
        os.environ.setdefault(str(key), str(value))


def _from_ssm(path: str) -> dict[str, str]:
    """`/path` holding one JSON parameter, or a path whose parameters are each one variable."""
    client = boto3.client("ssm")
    values: dict[str, str] = {}
    try:
        parameter = client.get_parameter(Name=path, WithDecryption=True)["Parameter"]
        return json.loads(parameter["Value"])
    except client.exceptions.ParameterNotFound:
        pass
    paginator = client.get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=path, Recursive=True, WithDecryption=True):
        for parameter in page["Parameters"]:
            values[parameter["Name"].rsplit("/", 1)[-1]] = parameter["Value"]
    return values
