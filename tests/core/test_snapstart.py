"""SnapStart hooks (lego_api.core.snapstart), called directly: registered only on a SnapStart init; the secret is read
again after a restore and overwrites what came from it, never a variable set on the function; cached clients and
JWKS ages are dropped; `random` is reseeded. The packaged handler's snapshot and restore (sockets, threads, a fork) is
tests/deploy/test_snapstart_restore.py."""

from __future__ import annotations

import json
import os
import random
import time
import uuid

import boto3
import pytest
import snapshot_restore_py
from django.conf import settings as django_settings
from django.db import connection

from lego_api.core import cache, health, jwt_keys, redis_breaker, secrets, snapstart, storage, tasks


@pytest.fixture
def registries(monkeypatch):
    """snapshot_restore_py's registries and our `registered` flag, restored afterwards."""
    monkeypatch.setattr(snapshot_restore_py, "_before_snapshot_registry", [])
    monkeypatch.setattr(snapshot_restore_py, "_after_restore_registry", [])
    monkeypatch.setattr(snapstart, "_registered", False)
    return snapshot_restore_py


def test_hooks_are_not_registered_outside_a_snapstart_init(registries, monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    assert snapstart.register() is False
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    assert snapstart.register() is False
    assert registries._before_snapshot_registry == [] and registries._after_restore_registry == []


def test_hooks_are_registered_once_on_a_snapstart_init(registries, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")

    assert snapstart.register() is True
    assert snapstart.register() is True

    assert [hook for hook, _a, _k in registries._before_snapshot_registry] == [snapstart.before_snapshot]
    assert [hook for hook, _a, _k in registries._after_restore_registry] == [snapstart.after_restore]


@pytest.mark.django_db(transaction=True)
def test_before_snapshot_closes_the_database_and_forgets_clients(settings):
    connection.ensure_connection()
    s3_client = storage.s3_client()  # the default storage (django-storages) and its boto3 client
    tasks.lambda_client()
    jwt_keys._remote_jwks[("https://issuer.example", "https://issuer.example/jwks")] = object()
    health._memo.update(at=time.monotonic(), result={"memoized": True})
    redis_breaker.breaker.record_failure(ConnectionError("down at the snapshot"))
    cache.users_with_debts()  # the debt check ran at the snapshot's moment
    assert connection.connection is not None and redis_breaker.breaker.is_open
    assert cache._debts._checked_at is not None

    try:
        snapstart.before_snapshot()
        circuit_open_after = redis_breaker.breaker.is_open
        debts_checked_at_after = cache._debts._checked_at
    finally:
        redis_breaker.breaker.reset()  # whatever happens, no open circuit for the next tests

    assert connection.connection is None
    assert storage.s3_client() is not s3_client  # the storage and its client are made again
    assert tasks.lambda_client.cache_info().currsize == 0
    assert jwt_keys._remote_jwks == {}
    assert health._memo["result"] is None
    assert circuit_open_after is False
    assert debts_checked_at_after is None


def test_after_restore_reseeds_random():
    random.seed(1234)  # as if the snapshot carried a seeded generator
    replayed = random.random()
    random.seed(1234)

    snapstart.after_restore()

    assert random.random() != replayed


@pytest.fixture
def secret(services, monkeypatch):
    """A Secrets Manager secret in the harness's moto, and a process whose secret was loaded at init."""
    moto_url = os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    for name, value in {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FROM_THE_FUNCTION": "function-value",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SECRET_KEY", "FROM_THE_SECRET"):
        monkeypatch.delenv(name, raising=False)  # restored (or removed) after the test
    client = boto3.client("secretsmanager", endpoint_url=moto_url, region_name="us-east-1")
    name = f"lego-api/snapstart-{uuid.uuid4().hex[:8]}"
    values = {"SECRET_KEY": "snapshot-key", "FROM_THE_SECRET": "one", "FROM_THE_FUNCTION": "secret-value"}
    client.create_secret(Name=name, SecretString=json.dumps(values))
    monkeypatch.setattr(secrets, "_function_variables", None)
    monkeypatch.setattr(django_settings, "SECRET_KEY", django_settings.SECRET_KEY)  # put back after the test
    secrets.load_secrets_into_environ(name)  # the init
    monkeypatch.setenv("SECRETS_ID", name)

    def rotate(**changes: str) -> None:
        values.update(changes)
        client.put_secret_value(SecretId=name, SecretString=json.dumps(values))

    return rotate


def test_after_restore_rereads_the_secret_over_what_came_from_it(secret, settings):
    assert os.environ["SECRET_KEY"] == "snapshot-key" and os.environ["FROM_THE_FUNCTION"] == "function-value"
    secret(SECRET_KEY="rotated-key", FROM_THE_SECRET="two", FROM_THE_FUNCTION="secret-value-2")

    changed = snapstart.reload_secrets()

    assert changed == {"SECRET_KEY": "rotated-key", "FROM_THE_SECRET": "two"}
    assert os.environ["SECRET_KEY"] == "rotated-key" and os.environ["FROM_THE_SECRET"] == "two"
    assert os.environ["FROM_THE_FUNCTION"] == "function-value"  # set on the function: it still wins
    assert settings.SECRET_KEY == "rotated-key"


def test_an_unchanged_secret_changes_nothing(secret, settings):
    before = settings.SECRET_KEY
    assert snapstart.reload_secrets() == {}
    assert before == settings.SECRET_KEY


def test_a_secret_that_cannot_be_read_keeps_the_snapshot_values(secret, settings, monkeypatch, caplog):
    before = settings.SECRET_KEY
    monkeypatch.setenv("SECRETS_ID", "lego-api/does-not-exist")

    assert snapstart.reload_secrets() == {}

    assert before == settings.SECRET_KEY and os.environ["SECRET_KEY"] == "snapshot-key"
    assert "keeping the snapshot's values" in caplog.text
