"""JWT authentication (SPEC §2.2): dev and Cognito-style tokens through one verification path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.test import override_settings

from lego_api.core.jwt_keys import mint_local_token

pytestmark = pytest.mark.django_db

ECHO = "/api/test/echo"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def get_echo(client, token: str | None = None, **extra):
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(ECHO, **extra)


def assert_401(response, message: str = "Invalid token") -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["success"] is False
    assert body["error"] == {"type": "UNAUTHORIZED", "message": message}
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["requestId"]


def test_valid_dev_token_is_accepted(client):
    token = mint_local_token("dev-alice", email="alice@example.com", name="Alice")
    response = get_echo(client, token)
    assert response.status_code == 200
    assert response.json()["data"]["userId"] == "dev-alice"


def test_devtoken_command_prints_only_a_token_the_api_accepts(client, capsys):
    call_command("devtoken", "dev-bob", "--email", "bob@example.com", "--token-use", "access", "--ttl", "120")
    out = capsys.readouterr().out.strip()
    assert out.count(".") == 2 and "\n" not in out
    response = get_echo(client, out)
    assert response.status_code == 200
    assert response.json()["data"] == {"userId": "dev-bob", "tokenUse": "access", "body": None}


@override_settings(IS_PRODUCTION=True)
def test_devtoken_command_is_refused_in_production(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("devtoken", "dev-bob")
    assert capsys.readouterr().out == ""


def test_cognito_id_token_is_accepted(client, issuer):
    response = get_echo(client, issuer.token("cog-1", token_use="id"))
    assert response.status_code == 200
    assert response.json()["data"]["tokenUse"] == "id"


def test_cognito_access_token_is_accepted(client, issuer):
    response = get_echo(client, issuer.token("cog-2", token_use="access"))
    assert response.status_code == 200
    assert response.json()["data"] == {"userId": "cog-2", "tokenUse": "access", "body": None}


def test_missing_credential_gets_401_authentication_required(client):
    assert_401(client.get(ECHO), "Authentication required")


def test_expired_token_gets_token_expired(client, issuer):
    now = int(time.time())
    assert_401(get_echo(client, issuer.token(iat=now - 7200, exp=now - 120)), "Token expired")


def test_expired_within_leeway_is_accepted(client, issuer):
    now = int(time.time())
    assert get_echo(client, issuer.token(iat=now - 600, exp=now - 30)).status_code == 200


def test_not_yet_valid_token_is_refused(client, issuer):
    assert_401(get_echo(client, issuer.token(nbf=int(time.time()) + 600)))


def test_token_issued_in_the_future_is_refused(client, issuer):
    assert_401(get_echo(client, issuer.token(iat=int(time.time()) + 600)))


def test_wrong_issuer_is_refused(client, issuer):
    assert_401(get_echo(client, issuer.token(iss="https://cognito-idp.eu-west-1.amazonaws.com/other-pool")))


@pytest.mark.parametrize("claimed", [["not", "a", "string"], {"an": "object"}, 42])
def test_non_string_issuer_is_refused_not_a_500(client, issuer, claimed):
    assert_401(get_echo(client, issuer.token(iss=claimed)))


def test_wrong_audience_on_id_token_is_refused(client, issuer):
    assert_401(get_echo(client, issuer.token(token_use="id", aud="someone-else")))


def test_wrong_client_id_on_access_token_is_refused(client, issuer):
    assert_401(get_echo(client, issuer.token(token_use="access", client_id="someone-else")))


def test_refresh_token_use_is_refused(client, issuer):
    assert_401(get_echo(client, issuer.token(token_use="refresh", aud="test-app-client")))


def test_missing_sub_is_refused(client, issuer):
    assert_401(get_echo(client, issuer.token(sub="")))


def test_alg_none_is_refused(client, issuer):
    now = int(time.time())
    header = {"alg": "none", "typ": "JWT", "kid": next(iter(issuer.keys))}
    payload = {
        "sub": "mallory",
        "iss": issuer.issuer,
        "token_use": "id",
        "aud": "test-app-client",
        "iat": now,
        "exp": now + 600,
    }
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}."
    assert_401(get_echo(client, token))


def test_hs256_signed_with_the_public_key_is_refused(client, issuer):
    kid = next(iter(issuer.keys))
    public_pem = (
        issuer.keys[kid]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(
        json.dumps(
            {
                "sub": "mallory",
                "iss": issuer.issuer,
                "token_use": "id",
                "aud": "test-app-client",
                "iat": now,
                "exp": now + 600,
            }
        ).encode()
    )
    signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert_401(get_echo(client, f"{header}.{payload}.{signature}"))


def test_tampered_payload_is_refused(client, issuer):
    header, payload, signature = issuer.token("honest-user").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    assert_401(get_echo(client, f"{header}.{b64(json.dumps(claims).encode())}.{signature}"))


def test_garbage_and_non_bearer_headers_are_refused(client):
    assert_401(get_echo(client, "not-a-jwt"))
    assert_401(client.get(ECHO, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"))
    assert_401(client.get(ECHO, HTTP_AUTHORIZATION="Bearer"))


def test_unknown_kid_triggers_one_refetch_then_401(client, issuer):
    assert get_echo(client, issuer.token("warm")).status_code == 200  # first fetch of the JWKS
    fetches = issuer.requests
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_401(get_echo(client, issuer.token(kid="unknown-kid-1", key=stranger)))
    assert issuer.requests == fetches + 1
    # Within the refetch interval another unknown kid is rejected without hammering the JWKS endpoint.
    assert_401(get_echo(client, issuer.token(kid="unknown-kid-2", key=stranger)))
    assert issuer.requests == fetches + 1


def test_rotated_key_is_picked_up_by_the_refetch(client, issuer):
    assert get_echo(client, issuer.token("warm")).status_code == 200
    new_kid = issuer.add_key()
    try:
        response = get_echo(client, issuer.token("rotated", kid=new_kid))
        assert response.status_code == 200
        assert response.json()["data"]["userId"] == "rotated"
    finally:
        del issuer.keys[new_kid]


def test_jwks_is_shared_through_the_cache(client, issuer):
    from lego_api.core import jwt_keys

    assert get_echo(client, issuer.token("a")).status_code == 200
    fetches = issuer.requests
    jwt_keys._remote_jwks.clear()  # a new process: memory is empty but the shared cache has the JWKS
    assert get_echo(client, issuer.token("b")).status_code == 200
    assert issuer.requests == fetches


def test_header_wins_over_cookie(client, issuer):
    client.cookies["token"] = issuer.token("cookie-user")
    response = get_echo(client, issuer.token("header-user"))
    assert response.json()["data"]["userId"] == "header-user"


def test_invalid_header_is_not_rescued_by_a_valid_cookie(client, issuer):
    client.cookies["token"] = issuer.token("cookie-user")
    assert_401(get_echo(client, "broken"))


def test_cookie_alone_authenticates_safe_requests(client, issuer):
    client.cookies["token"] = issuer.token("cookie-user")
    assert client.get(ECHO).json()["data"]["userId"] == "cookie-user"


def test_first_authenticated_request_mirrors_the_profile(client, issuer):
    from profiles.models import Profile

    get_echo(client, issuer.token("mirror-1", email="m@example.com", name="Mia"))
    profile = Profile.objects.get(user_id="mirror-1")
    assert (profile.email, profile.name) == ("m@example.com", "Mia")
    profile.name = "Edited"
    profile.save()
    get_echo(client, issuer.token("mirror-1", name="Claim Name"))
    profile.refresh_from_db()
    assert profile.name == "Edited"  # never overwritten


def test_access_token_creates_profile_without_claim_values(client, issuer):
    from profiles.models import Profile

    get_echo(client, issuer.token("mirror-2", token_use="access", email="x@example.com"))
    profile = Profile.objects.get(user_id="mirror-2")
    assert profile.email is None


def test_a_key_removed_from_the_jwks_stops_being_trusted_when_the_process_copy_expires(client, issuer):
    from lego_api.core import jwt_keys

    old_kid = next(iter(issuer.keys))
    token = issuer.token("rotating", kid=old_kid)
    assert get_echo(client, token).status_code == 200
    new_kid = issuer.add_key()
    old_key = issuer.keys.pop(old_kid)
    try:
        from django.core.cache import cache

        cache.clear()  # the shared copy has expired too
        (jwks,) = jwt_keys._remote_jwks.values()
        jwks.loaded_at -= jwt_keys.JWKS_CACHE_TTL + 1
        assert_401(get_echo(client, token))
        assert get_echo(client, issuer.token("rotating", kid=new_kid)).status_code == 200
    finally:
        issuer.keys[old_kid] = old_key
        del issuer.keys[new_kid]


def test_non_string_profile_claims_are_ignored(client, issuer):
    from profiles.models import Profile

    response = get_echo(client, issuer.token("odd-claims", email=["a@example.com"], name={"x": 1}, given_name=5))
    assert response.status_code == 200
    profile = Profile.objects.get(user_id="odd-claims")
    assert (profile.email, profile.name) == (None, None)
