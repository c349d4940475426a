"""The deploy pipeline's smoke check (`python -m tools.smoke --url …`, tools/smoke.py) against the real app on a
loopback port: health, then a MOC created, read back and deleted with a token, signed in through a Cognito user
pool in the harness's moto server (USER_PASSWORD_AUTH) or given as SMOKE_TOKEN."""

from __future__ import annotations

import os
import uuid

import boto3
import pytest

from mocs.models import Moc
from tools import smoke

pytestmark = pytest.mark.django_db(transaction=True)
REGION = "us-east-1"
PASSWORD = "Smoke-test-password-1!"


@pytest.fixture
def cognito_user(settings):
    """A moto user pool, app client and user, and the app's settings trusting that pool's tokens."""
    moto_url = os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    client = boto3.client("cognito-idp", region_name=REGION, endpoint_url=moto_url)
    pool_id = client.create_user_pool(PoolName=f"smoke-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    username = f"smoke-{uuid.uuid4().hex[:8]}"
    client.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
    client.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    settings.COGNITO_ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    settings.COGNITO_JWKS_URL = f"{moto_url}/{pool_id}/.well-known/jwks.json"
    settings.COGNITO_APP_CLIENT_ID = client_id
    return {
        "SMOKE_COGNITO_CLIENT_ID": client_id,
        "SMOKE_USERNAME": username,
        "SMOKE_PASSWORD": PASSWORD,
        "SMOKE_COGNITO_REGION": REGION,
    }


def test_a_cognito_user_makes_the_round_trip(live_server, cognito_user, capsys):
    assert smoke.main(["--url", live_server.url], environ=cognito_user) == 0
    out = capsys.readouterr().out
    for step in ("GET /health: healthy", "POST /api/mocs: created", "DELETE /api/mocs/", "404, gone", "passed"):
        assert step in out
    assert not Moc.objects.filter(title__startswith="smoke-test").exists()


def test_a_given_token_skips_the_sign_in(live_server, token_for, capsys):
    assert smoke.main(["--url", live_server.url], environ={"SMOKE_TOKEN": token_for("smoke-user")}) == 0
    assert "signed in" not in capsys.readouterr().out
    assert not Moc.objects.filter(user_id="smoke-user").exists()


def test_a_wrong_password_fails_the_check(live_server, cognito_user, capsys):
    environ = {**cognito_user, "SMOKE_PASSWORD": "not-the-password-1!"}
    assert smoke.main(["--url", live_server.url], environ=environ) == 1
    assert f"Cognito sign-in of {cognito_user['SMOKE_USERNAME']} failed" in capsys.readouterr().err


def test_a_token_the_stage_refuses_fails_at_the_create(live_server, capsys):
    assert smoke.main(["--url", live_server.url], environ={"SMOKE_TOKEN": "not-a-token"}) == 1
    assert "POST /api/mocs: expected 201, got 401" in capsys.readouterr().err


def test_no_credentials_is_a_clear_failure(live_server, capsys):
    assert smoke.main(["--url", live_server.url], environ={}) == 1
    err = capsys.readouterr().err
    assert "set SMOKE_TOKEN, or SMOKE_COGNITO_CLIENT_ID, SMOKE_USERNAME, SMOKE_PASSWORD" in err


def test_a_degraded_stage_fails_before_any_write(live_server, services, token_for, capsys):
    with services.redis.paused():  # the cache down: /health answers 200 `degraded`
        assert smoke.main(["--url", live_server.url], environ={"SMOKE_TOKEN": token_for("smoke-user")}) == 1
    assert "GET /health: status 'degraded', not 'healthy'" in capsys.readouterr().err
    assert not Moc.objects.filter(user_id="smoke-user").exists()
