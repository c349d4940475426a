"""SECRETS_ID (SPEC §8): at cold start the packaged settings load SECRET_KEY, DATABASE_URL, ... from a Secrets
Manager secret or an SSM parameter path, here moto's (the harness's moto server serves every AWS API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import boto3
import pytest

from tests.deploy.conftest import lambda_env

PRINT_SETTINGS = """
import json, os, sys
sys.path.insert(0, os.getcwd())
os.environ["DJANGO_SETTINGS_MODULE"] = "lego_api.settings"
import django
django.setup()
from django.conf import settings
database = settings.DATABASES["default"]
print(json.dumps({"SECRET_KEY": settings.SECRET_KEY, "DB_NAME": database["NAME"], "DB_HOST": database["HOST"],
                  "ALLOWED_HOSTS": settings.ALLOWED_HOSTS}))
"""
SECRET_VALUES = {
    "SECRET_KEY": "from-the-secret-" + uuid.uuid4().hex,
    "DATABASE_URL": "postgres://lego_app:pw@lego-proxy.proxy-abc.us-east-1.rds.amazonaws.com:5432/lego",
    "ALLOWED_HOSTS": "from-the-secret.example",
}


@pytest.fixture(scope="module")
def moto_url(services) -> str:
    return os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]


def aws_client(service: str, moto_url: str):
    return boto3.client(
        service,
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def settings_with_secrets(unzipped, moto_url: str, secrets_id: str, **overrides: str | None) -> dict:
    variables: dict[str, str | None] = {
        "SECRETS_ID": secrets_id,
        "SECRET_KEY": None,
        "DATABASE_URL": None,
        "ALLOWED_HOSTS": None,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_url,
        "AWS_ENDPOINT_URL_SSM": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    env = lambda_env(**{**variables, **overrides})
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PRINT_SETTINGS],
        cwd=unzipped,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_loaded(loaded: dict) -> None:
    assert loaded["SECRET_KEY"] == SECRET_VALUES["SECRET_KEY"]
    assert loaded["DB_NAME"] == "lego"
    assert loaded["DB_HOST"] == "lego-proxy.proxy-abc.us-east-1.rds.amazonaws.com"


def test_secrets_manager_secret_is_loaded_at_cold_start(unzipped, moto_url):
    name = f"lego-api/test-{uuid.uuid4().hex[:8]}"
    aws_client("secretsmanager", moto_url).create_secret(Name=name, SecretString=json.dumps(SECRET_VALUES))

    loaded = settings_with_secrets(unzipped, moto_url, name)

    assert_loaded(loaded)
    assert loaded["ALLOWED_HOSTS"] == ["from-the-secret.example"]


def test_a_variable_set_on_the_function_wins_over_the_secret(unzipped, moto_url):
    name = f"lego-api/test-{uuid.uuid4().hex[:8]}"
    aws_client("secretsmanager", moto_url).create_secret(Name=name, SecretString=json.dumps(SECRET_VALUES))

    loaded = settings_with_secrets(unzipped, moto_url, name, ALLOWED_HOSTS="api.example")

    assert loaded["ALLOWED_HOSTS"] == ["api.example"]


def test_ssm_parameter_holding_json_is_loaded(unzipped, moto_url):
    path = f"/lego-api/test-{uuid.uuid4().hex[:8]}"
    aws_client("ssm", moto_url).put_parameter(Name=path, Value=json.dumps(SECRET_VALUES), Type="SecureString")

    assert_loaded(settings_with_secrets(unzipped, moto_url, path))


def test_ssm_path_of_one_parameter_per_variable_is_loaded(unzipped, moto_url):
    path = f"/lego-api/test-{uuid.uuid4().hex[:8]}"
    ssm = aws_client("ssm", moto_url)
    for key, value in SECRET_VALUES.items():
        ssm.put_parameter(Name=f"{path}/{key}", Value=value, Type="SecureString")

    assert_loaded(settings_with_secrets(unzipped, moto_url, path))


def test_missing_secret_stops_the_cold_start(unzipped, moto_url):
    env = lambda_env(
        SECRETS_ID="lego-api/does-not-exist",
        SECRET_KEY=None,
        AWS_ENDPOINT_URL_SECRETS_MANAGER=moto_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PRINT_SETTINGS], cwd=unzipped, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "ResourceNotFoundException" in result.stderr
