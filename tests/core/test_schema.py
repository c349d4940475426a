"""C3 OpenAPI document and Swagger UI, C4 JWKS and where C4/C5 are mounted (SPEC §4.1).

`spectacular --validate --fail-on-warn` is not repeated here: `make test` runs it (the `schema` target)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import yaml
from django.urls import Resolver404, resolve

from lego_api.core.jwt_keys import local_key, mint_local_token

pytestmark = pytest.mark.django_db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


# --- C3 -----------------------------------------------------------------------------------------------------------------


def test_schema_is_yaml_openapi_3_by_default(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert "json" not in response["Content-Type"]
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "LEGO Projects API"
    assert "/api/csrf" in document["paths"]
    assert "success" not in document  # no envelope


def test_schema_paths_are_written_as_the_spec_writes_them(client):
    paths = json.loads(client.get("/api/schema?format=json").content)["paths"]
    assert [path for path in paths if path.endswith("/")] == []  # routes take an optional slash; none is documented


def test_schema_is_json_with_format_json(client):
    response = client.get("/api/schema?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert set(document) >= {"openapi", "info", "paths", "components"}
    assert "success" not in document and "timestamp" not in document


@pytest.mark.parametrize("path", ["/api/schema", "/api/docs"])
def test_schema_and_docs_are_public_even_with_a_bad_token(client, path):
    assert client.get(path).status_code == 200
    response = client.get(path, HTTP_AUTHORIZATION="Bearer not-a-token", HTTP_COOKIE="token=also-not-a-token")
    assert response.status_code == 200


def test_docs_page_uses_only_local_assets(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()

    for host in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "fonts.googleapis.com"):
        assert host not in html
    assert re.findall(r"(?:https?:)?//[\w.-]+", html) == []  # no absolute URL of any host
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert all(asset.startswith("/static/") for asset in assets), assets
    assert "/api/schema" in html


def test_docs_assets_are_served(client):
    html = client.get("/api/docs").content.decode()
    for asset in re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", html):
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()


# --- C4 -----------------------------------------------------------------------------------------------------------------


def test_jwks_is_the_bare_public_key_of_the_local_issuer(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["keys"]  # no envelope
    [key] = body["keys"]
    assert key["kty"] == "RSA"
    assert (key["alg"], key["use"]) == ("RS256", "sig")
    assert key["kid"] == local_key().kid
    assert key["n"] and key["e"] == "AQAB"
    assert not PRIVATE_JWK_MEMBERS & set(key)


def test_a_dev_token_verifies_against_the_served_jwks(client, settings):
    [jwk] = client.get("/.well-known/jwks.json").json()["keys"]
    token = mint_local_token("frank", token_use="id")
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    claims = jwt.decode(
        token,
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=settings.LOCAL_JWT_CLIENT_ID,
        issuer=settings.LOCAL_JWT_ISSUER,
    )
    assert claims["sub"] == "frank"


def test_jwks_is_public_and_not_enveloped_on_errors_either(client):
    response = client.post("/.well-known/jwks.json")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "METHOD_NOT_ALLOWED"


# --- Where C4 and C5 are mounted -------------------------------------------------------------------------------------


def test_local_upload_route_is_absent_with_s3_storage(client, settings):
    assert settings.STORAGE_BUCKET  # the test stack runs SeaweedFS
    with pytest.raises(Resolver404):
        resolve("/local-uploads/some-token")
    response = client.put("/local-uploads/some-token", b"bytes", content_type="application/octet-stream")
    assert response.status_code == 404


def routes_in(env: dict[str, str], tmp_path: Path, *paths: str) -> dict[str, str | None]:
    """Which view each path resolves to in a fresh process whose URLconf is built under `env`."""
    code = (
        "import json, sys, django; django.setup(); from django.urls import resolve, Resolver404\n"
        "def name(path):\n"
        "    try:\n"
        "        return resolve(path).func.__name__\n"
        "    except Resolver404:\n"
        "        return None\n"
        "print(json.dumps({p: name(p) for p in sys.argv[1:]}))"
    )
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), "LOCAL_DIR": str(tmp_path)}
    clean["DJANGO_SETTINGS_MODULE"] = "lego_api.settings"
    result = subprocess.run(
        [sys.executable, "-c", code, *paths],
        cwd=PROJECT_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_local_upload_and_jwks_routes_follow_the_configuration(tmp_path):
    paths = ("/local-uploads/token", "/.well-known/jwks.json")
    assert routes_in({}, tmp_path, *paths) == {
        "/local-uploads/token": "local_upload",
        "/.well-known/jwks.json": "jwks_view",
    }
    configured = {"STORAGE_BUCKET": "bucket", "LOCAL_AUTH_ENABLED": "false"}
    assert routes_in(configured, tmp_path, *paths) == {"/local-uploads/token": None, "/.well-known/jwks.json": None}
