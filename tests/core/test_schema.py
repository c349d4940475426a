"""C3 OpenAPI document and Swagger UI, C4 JWKS and where C4/C5 are mounted (SPEC §4.1).

The C3 rules (error responses, security alternatives, path parameters) are checked against the route table of
`lego_api.urls`, so every route an app adds later is held to them without editing this file (except §4's 409s)."""

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
from django.core.management import call_command
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from lego_api.core.casing import to_camel
from lego_api.core.jwt_keys import local_key, mint_local_token
from lego_api.core.routing import UUID

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


# --- C3: the document follows the route table ---------------------------------------------------------------------

APP_URLCONF = "lego_api.urls"  # the served routes (tests.urls adds probe routes that are not part of the API)
SPEC_PATH_IDS = {"id", "fileId", "plId", "galleryImageId"}  # SPEC §1.6
UNSAFE = {"post", "put", "patch", "delete"}
# SPEC §4: the operations whose route text lists a 409 (uniqueness or a per-MOC cap). Apps filed later add theirs.
SPEC_CONFLICTS = {
    ("post", "/api/mocs"),  # M2
    ("patch", "/api/mocs/{id}"),  # M5
    ("put", "/api/mocs/{id}"),
    ("post", "/api/mocs/with-files"),  # M7
    ("post", "/api/mocs/with-files/initialize"),  # M8
    ("post", "/api/mocs/{id}/files/initialize"),  # M9
    ("post", "/api/mocs/{id}/files"),  # M11
    ("post", "/api/mocs/{id}/gallery-images"),  # M14
    ("post", "/api/mocs/{id}/upload-parts-list"),  # M17
    ("post", "/api/mocs/upload-parts-list"),  # M18
    ("post", "/api/mocs/{id}/parts-lists"),  # M20
    ("post", "/api/images/{id}/flag"),  # G7
    ("post", "/api/flag"),  # G8
}
# SPEC §4.2 M18: `mocId` in the body names the target resource and follows the path rule (404/403).
SPEC_BODY_RESOURCES = {("post", "/api/mocs/upload-parts-list")}
# C1 is a plain Django view (it must answer without DRF); SPEC §4.1 C3 still gives it a 503.
PLAIN_DOCUMENTED = {("get", "/health")}


@pytest.fixture(scope="module")
def document() -> dict:
    return SchemaGenerator(urlconf=APP_URLCONF).get_schema(request=None, public=True)


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _template(regex: str) -> str:
    """`^api/mocs/(?P<file_id>…)/?$` -> `/api/mocs/{fileId}` (the SPEC §1.6 names)."""
    path = regex.replace("^", "").replace("/?$", "").replace("$", "")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "{" + to_camel(m.group(1)) + "}", path)
    return "/" + path.replace("\\", "")


def route_table() -> dict[tuple[str, str], type[APIView]]:
    """Every (method, path) that an API view of the app serves, from the URLconf itself."""
    table = {}
    for regex, callback in _walk(get_resolver(APP_URLCONF).url_patterns):
        view = getattr(callback, "cls", None)
        if view is None or not issubclass(view, APIView) or regex.startswith(("^api/schema", "^api/docs")):
            continue  # the admin, C4/C5 and the C3 views themselves (SPEC §1.1: not part of the API document)
        # A viewset serves the methods its route binds (`callback.actions`); an APIView the ones it defines.
        methods = getattr(callback, "actions", None) or [m for m in view.http_method_names if hasattr(view, m)]
        for method in methods:
            if method not in ("head", "options"):
                table[(method, _template(regex))] = view
    return table


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_every_route_is_documented_and_nothing_else(document):
    documented = {(method, path) for method, path, _ in operations(document)}
    assert documented == set(route_table()) | PLAIN_DOCUMENTED


def expected_errors(method: str, path: str, operation: dict, view: type[APIView] | None) -> set[int]:
    """SPEC §4.1 C3: the error statuses an operation must document."""
    public = view is None or AllowAny in view.permission_classes
    rate_limited = path.startswith("/api/")  # SPEC §2.4: every /api/** route but the C3 views themselves
    has_query = any(p["in"] == "query" for p in operation.get("parameters", []))
    has_body = "requestBody" in operation
    has_resource = "{" in path or (method, path) in SPEC_BODY_RESOURCES
    expected = set()
    if not public:
        expected |= {401, 503}
    if rate_limited:
        expected.add(429)
    if has_query or has_body:
        expected.add(400)
    if has_body:
        expected |= {413, 415}
    if has_resource:
        expected |= {403, 404}
    if method in UNSAFE and not public:
        expected.add(403)
    if (method, path) in SPEC_CONFLICTS:
        expected.add(409)
    if (method, path) in PLAIN_DOCUMENTED:
        expected.add(503)
    return expected


def test_every_operation_documents_the_error_statuses_of_the_rule(document):
    table = route_table()
    wrong = {}
    for method, path, operation in operations(document):
        documented = {int(code) for code in operation["responses"] if int(code) >= 400}
        expected = expected_errors(method, path, operation, table.get((method, path)))
        if documented != expected:
            wrong[f"{method.upper()} {path}"] = {"missing": expected - documented, "extra": documented - expected}
    assert wrong == {}


def test_request_bodies_are_required(document):
    bodies = [(method, path, op["requestBody"]) for method, path, op in operations(document) if "requestBody" in op]
    assert bodies and [(m, p) for m, p, body in bodies if body.get("required") is not True] == []  # SPEC §1.8


def test_conflicts_are_documented_where_spec_section_4_lists_them(document):
    documented = {(method, path) for method, path, op in operations(document) if "409" in op["responses"]}
    assert documented == SPEC_CONFLICTS


def test_error_responses_use_the_error_envelope(document):
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"success", "error", "timestamp", "requestId"}
    assert envelope["properties"]["success"]["type"] == "boolean"
    error = envelope["properties"]["error"]
    assert set(error["required"]) == {"type", "message"}
    assert set(error["properties"]) == {"type", "message", "details"}
    assert {"VALIDATION_ERROR", "UNAUTHORIZED", "CONFLICT", "SERVICE_UNAVAILABLE"} <= set(
        error["properties"]["type"]["enum"]
    )
    for method, path, operation in operations(document):
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, (method, path, code)
                assert response["description"], (method, path, code)


def test_rate_limited_and_unauthorized_responses_document_their_headers(document):
    responses = [operation["responses"] for _, _, operation in operations(document)]
    assert [r for r in responses if "429" in r and "Retry-After" not in r["429"].get("headers", {})] == []
    assert [r for r in responses if "401" in r and "WWW-Authenticate" not in r["401"].get("headers", {})] == []
    assert any("429" in r for r in responses) and any("401" in r for r in responses)


def test_a_known_error_body_validates_against_the_documented_schema(document, client):
    import jsonschema

    response = client.get("/api/mocs")  # no credential: 401 in the error envelope
    assert response.status_code == 401
    schema = {"$ref": "#/components/schemas/ErrorEnvelope", "components": document["components"]}
    jsonschema.validate(response.json(), schema)


def test_security_is_bearer_or_cookie_and_the_csrf_header_on_unsafe_methods(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["cookieAuth"] == {"type": "apiKey", "in": "cookie", "name": "token"}
    assert schemes["csrfHeader"] == {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"}
    table = route_table()
    for method, path, operation in operations(document):
        view = table.get((method, path))
        if view is None or AllowAny in view.permission_classes:
            assert operation.get("security", [{}]) == [{}], (method, path)  # public: no credential needed
        elif method in UNSAFE:
            assert operation["security"] == [{"bearerAuth": []}, {"cookieAuth": [], "csrfHeader": []}], path
        else:
            assert operation["security"] == [{"bearerAuth": []}, {"cookieAuth": []}], path
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "x-csrf-token" not in headers, (method, path)  # a security scheme, never a required parameter


def uuid_path_parameters() -> dict[str, set[str]]:
    """path -> the parameters its route matches with the UUID pattern only (SPEC §1.6; `/api/users/{id}` is text)."""
    found: dict[str, set[str]] = {}
    for regex, _ in _walk(get_resolver(APP_URLCONF).url_patterns):
        groups = re.findall(r"\(\?P<(\w+)>" + re.escape(UUID) + r"\)", regex)
        found[_template(regex)] = {to_camel(name) for name in groups}
    return found


def test_path_parameters_carry_the_spec_names_as_uuids(document):
    uuids = uuid_path_parameters()
    for method, path, operation in operations(document):
        in_template = re.findall(r"\{(\w+)\}", path)
        assert set(in_template) <= SPEC_PATH_IDS, path
        declared = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        assert sorted(p["name"] for p in declared) == sorted(in_template), (method, path)
        for parameter in declared:
            assert parameter["required"] is True
            if parameter["name"] in uuids[path]:
                assert parameter["schema"] == {"type": "string", "format": "uuid"}, (method, path, parameter["name"])
            else:  # opaque text (`/api/users/{id}`)
                assert parameter["schema"]["type"] == "string" and "format" not in parameter["schema"], path
    assert any("{fileId}" in path for path in document["paths"])


def test_spectacular_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", validate=True, fail_on_warn=True, file=str(out), urlconf=APP_URLCONF)
    assert yaml.safe_load(out.read_text())["paths"]


def test_the_document_is_the_same_in_every_process(tmp_path):
    """Deterministic output (no set or hash order), so a refactor can be checked by comparing two documents."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), "LOCAL_DIR": str(tmp_path)}
    runs = []
    for seed in ("1", "2"):
        out = tmp_path / f"schema-{seed}.yaml"
        command = [sys.executable, "manage.py", "spectacular", "--file", str(out)]
        env = {**clean, "PYTHONHASHSEED": seed, "DJANGO_SETTINGS_MODULE": "lego_api.settings"}
        runs.append((subprocess.Popen(command, cwd=PROJECT_ROOT, env=env), out))
    for process, _ in runs:
        assert process.wait(timeout=180) == 0
    first, second = (out.read_text() for _, out in runs)
    assert first == second
    assert "/api/mocs" in yaml.safe_load(first)["paths"]


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
