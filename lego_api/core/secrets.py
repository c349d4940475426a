"""Cold-start secret loading (SPEC §8 `SECRETS_ID`): a Secrets Manager secret or an SSM parameter path of JSON."""

from __future__ import annotations

import json
import os

import boto3

# The variables set on the function, captured before the secret is first loaded: the secret never overrides them,
# on a cold start or when it is read again after a SnapStart restore.
_function_variables: frozenset[str] | None = None


def load_secrets_into_environ(secrets_id: str) -> None:
    """Copy the secret's JSON values into os.environ; variables already set win (so a stage can override)."""
    _apply(fetch_secret(secrets_id))


def reload_secrets_into_environ(secrets_id: str, timeouts: tuple[float, float, int] | None = None) -> dict[str, str]:
    """Read the secret again and overwrite the variables that came from it (still never those set on the function);
    returns the variables whose value changed."""
    return _apply(fetch_secret(secrets_id, timeouts))


def _apply(values: dict) -> dict[str, str]:
    global _function_variables
    if _function_variables is None:
        _function_variables = frozenset(os.environ)
    changed: dict[str, str] = {}
    for key, value in values.items():
        key, value = str(key), str(value)
        if key in _function_variables or os.environ.get(key) == value:
            continue
        os.environ[key] = changed[key] = value
    return changed


def fetch_secret(secrets_id: str, timeouts: tuple[float, float, int] | None = None) -> dict:
    """The secret's values; `timeouts` (connect, read, attempts) bound the call (the SnapStart restore has 10 s)."""
    config = None
    if timeouts is not None:
        from botocore.config import Config

        connect, read, attempts = timeouts
        config = Config(connect_timeout=connect, read_timeout=read, retries={"total_max_attempts": attempts})
    if secrets_id.startswith("/"):
        client = boto3.client("ssm", config=config)
        try:
            return _from_ssm(client, secrets_id)
        finally:
            client.close()  # no socket left open in a SnapStart snapshot
    client = boto3.client("secretsmanager", config=config)
    try:
        return json.loads(client.get_secret_value(SecretId=secrets_id)["SecretString"])
    finally:
        client.close()


def _from_ssm(client, path: str) -> dict[str, str]:
    """`/path` holding one JSON parameter, or a path whose parameters are each one variable."""
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
