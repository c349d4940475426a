"""The TARGET runs' token holders (tools/load/run.py `cognito_pool`): Cognito test users `LOAD_USER_PREFIX` + 0001 ...
signed in with USER_PASSWORD_AUTH, here against the harness's moto server (the Cognito stand-in, SPEC §9); and the
local runs' holders, minted by the local issuer for the seeded users."""

from __future__ import annotations

import os
import uuid

import boto3
import jwt
import pytest

from lego_api.core.jwt_keys import verify_token
from tools.load.run import SEED_PREFIX, cognito_pool, local_pool

ENDPOINT = "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"


@pytest.fixture
def cognito_users(monkeypatch):
    client = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=os.environ[ENDPOINT])
    pool_id = client.create_user_pool(PoolName=f"load-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="load",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    prefix = f"lt{uuid.uuid4().hex[:6]}-"
    for index in range(1, 4):
        username = f"{prefix}{index:04d}"
        client.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
        client.admin_set_user_password(UserPoolId=pool_id, Username=username, Password="Load-test-1!", Permanent=True)
    monkeypatch.setenv("LOAD_COGNITO_CLIENT_ID", client_id)
    monkeypatch.setenv("LOAD_USER_PREFIX", prefix)
    monkeypatch.setenv("LOAD_USER_COUNT", "3")
    monkeypatch.setenv("LOAD_USER_PASSWORD", "Load-test-1!")
    return client_id, prefix


def test_cognito_pool_signs_in_every_test_user(cognito_users):
    client_id, prefix = cognito_users
    pool = cognito_pool(ttl_hint=60)
    assert len(pool) == 3
    assert len({holder["userId"] for holder in pool}) == 3
    for index, holder in enumerate(pool, start=1):
        claims = jwt.decode(holder["token"], options={"verify_signature": False})
        assert claims["token_use"] == "id"
        assert claims["aud"] == client_id
        assert claims["cognito:username"] == f"{prefix}{index:04d}"
        assert holder["userId"] == claims["sub"]


def test_local_pool_tokens_verify_for_the_seeded_users(settings):
    settings.LOCAL_AUTH_ENABLED = True
    pool = local_pool(3, ttl=600)
    assert [holder["userId"] for holder in pool] == [f"{SEED_PREFIX}0001", f"{SEED_PREFIX}0002", f"{SEED_PREFIX}0003"]
    for holder in pool:
        assert verify_token(holder["token"])["sub"] == holder["userId"]
