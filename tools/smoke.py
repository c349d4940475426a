"""`python -m tools.smoke --url https://stage-url`: the deploy pipeline's check of a freshly deployed stage.

1. `GET /health` answers 200 with status `healthy`;
2. a Cognito test user signs in (USER_PASSWORD_AUTH through boto3's cognito-idp `initiate_auth`, which needs no AWS
   credentials; the app client has no secret): env SMOKE_COGNITO_CLIENT_ID, SMOKE_COGNITO_REGION (default
   us-east-1), SMOKE_USERNAME, SMOKE_PASSWORD. SMOKE_TOKEN (a token the stage accepts) skips the sign-in;
3. with that token, a MOC is created, read back and deleted, and is then gone (404); the MOC is deleted even when a
   step after its creation fails.

Exits 0 when every step passed, 1 naming the first that did not."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Callable, Sequence

import requests

TIMEOUT_SECONDS = 30  # the API's own Lambda timeout; a cold start included


class SmokeFailed(RuntimeError):
    """A step of the smoke check failed."""


def cognito_token(client_id: str, username: str, password: str, region: str = "us-east-1") -> str:
    """The user's ID token (USER_PASSWORD_AUTH)."""
    import boto3
    import botocore.exceptions

    client = boto3.client("cognito-idp", region_name=region)
    try:
        result = client.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except botocore.exceptions.ClientError as exc:
        raise SmokeFailed(f"Cognito sign-in of {username} failed: {exc.response['Error'].get('Code')}") from None
    if "AuthenticationResult" not in result:
        raise SmokeFailed(f"Cognito asks {username} for a challenge ({result.get('ChallengeName')}): finish it once")
    return result["AuthenticationResult"]["IdToken"]


def _expect(response: requests.Response, status: int, step: str) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != status or not isinstance(body, dict):
        raise SmokeFailed(f"{step}: expected {status}, got {response.status_code}: {response.text[:300]}")
    return body


def check(url: str, token: str, *, session: requests.Session | None = None, log: Callable[[str], None] = print):
    """Health, then the authenticated round trip. Raises SmokeFailed."""
    http = session or requests.Session()
    base = url.rstrip("/")
    health = _expect(http.get(f"{base}/health", timeout=TIMEOUT_SECONDS), 200, "GET /health")
    status = (health.get("data") or {}).get("status")
    if status != "healthy":
        raise SmokeFailed(f"GET /health: status {status!r}, not 'healthy': {health.get('data')}")
    log("GET /health: healthy")

    http.headers["Authorization"] = f"Bearer {token}"
    title = f"smoke-test {uuid.uuid4()}"
    moc = {
        "type": "moc",
        "title": title,
        "author": "smoke test",
        "partsCount": 1,
        "theme": "Smoke test",
        "setNumber": "MOC-SMOKE",
        "tags": ["smoke-test"],
    }
    created = _expect(http.post(f"{base}/api/mocs", json=moc, timeout=TIMEOUT_SECONDS), 201, "POST /api/mocs")
    moc_id = created["data"]["id"]
    log(f"POST /api/mocs: created {moc_id}")
    deleted = False
    try:
        read = _expect(http.get(f"{base}/api/mocs/{moc_id}", timeout=TIMEOUT_SECONDS), 200, "GET /api/mocs/{id}")
        if read["data"].get("title") != title:
            raise SmokeFailed(f"GET /api/mocs/{moc_id}: title {read['data'].get('title')!r}, not {title!r}")
        log(f"GET /api/mocs/{moc_id}: read back")
        _expect(http.delete(f"{base}/api/mocs/{moc_id}", timeout=TIMEOUT_SECONDS), 200, "DELETE /api/mocs/{id}")
        deleted = True
        log(f"DELETE /api/mocs/{moc_id}: deleted")
        _expect(http.get(f"{base}/api/mocs/{moc_id}", timeout=TIMEOUT_SECONDS), 404, "GET after DELETE")
        log(f"GET /api/mocs/{moc_id}: 404, gone")
    finally:
        if not deleted:  # leave no smoke-test MOC behind
            http.delete(f"{base}/api/mocs/{moc_id}", timeout=TIMEOUT_SECONDS)


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the stage's base URL (its /health is checked)")
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        token = env.get("SMOKE_TOKEN")
        if not token:
            missing = [n for n in ("SMOKE_COGNITO_CLIENT_ID", "SMOKE_USERNAME", "SMOKE_PASSWORD") if not env.get(n)]
            if missing:
                raise SmokeFailed(f"set SMOKE_TOKEN, or {', '.join(missing)} for the Cognito sign-in")
            token = cognito_token(
                env["SMOKE_COGNITO_CLIENT_ID"],
                env["SMOKE_USERNAME"],
                env["SMOKE_PASSWORD"],
                env.get("SMOKE_COGNITO_REGION") or "us-east-1",
            )
            print(f"signed in as {env['SMOKE_USERNAME']}")
        check(args.url, token)
    except (SmokeFailed, requests.RequestException) as exc:
        print(f"smoke check failed: {exc}", file=sys.stderr)
        return 1
    print("smoke check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
