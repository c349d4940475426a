"""Settings read from the environment (SPEC §8): production refuses to start half-configured or with local auth,
`check --deploy` is clean when everything is set, `devtoken` is refused where the local issuer is off, CORS
defaults, and which source wins. Each case runs in a fresh process with an environment built from scratch."""

from __future__ import annotations

import ast
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_ORIGINS = ["http://localhost:5173", "http://localhost:3002", "http://127.0.0.1:5173"]


def production_env() -> dict[str, str]:
    """Everything production needs (SPEC §8), nothing more."""
    return {
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": "postgres://lego:secret@db.internal.example.com:5432/lego",
        "ALLOWED_HOSTS": "api.example.com",
        "COGNITO_REGION": "eu-west-1",
        "COGNITO_USER_POOL_ID": "eu-west-1_AbCdEf123",
        "COGNITO_APP_CLIENT_ID": "app-client-id",
    }


def run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run in the project with only PATH, HOME, a scratch LOCAL_DIR and `env` (no DJANGO_SETTINGS_MODULE)."""
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), "LOCAL_DIR": str(tmp_path)}
    clean.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def manage(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(["manage.py", *args], env, tmp_path)


def settings_in(env: dict[str, str], tmp_path: Path, *names: str) -> dict:
    """The named settings as `lego_api.settings` computes them under `env`."""
    code = "import json, sys, lego_api.settings as s; print(json.dumps({n: getattr(s, n) for n in sys.argv[1:]}, default=repr))"
    result = run(["-c", code, *names], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for word in words:
        assert word in result.stderr


# --- Production start-up ------------------------------------------------------------------------------------------


def test_production_with_everything_set_passes_check_deploy(tmp_path):
    result = manage(production_env(), tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "missing,named",
    [
        (["SECRET_KEY"], "SECRET_KEY"),
        (["DATABASE_URL"], "DATABASE_URL"),
        (["ALLOWED_HOSTS"], "ALLOWED_HOSTS"),
        (["COGNITO_USER_POOL_ID"], "COGNITO_USER_POOL_ID"),
        (["COGNITO_APP_CLIENT_ID"], "COGNITO_APP_CLIENT_ID"),
    ],
)
def test_production_refuses_to_start_without_a_required_setting(tmp_path, missing, named):
    env = {k: v for k, v in production_env().items() if k not in missing}
    assert_refused(manage(env, tmp_path, "check", "--deploy"), named)


def test_an_empty_variable_counts_as_missing(tmp_path):
    assert_refused(manage({**production_env(), "SECRET_KEY": ""}, tmp_path, "check"), "SECRET_KEY")


def test_production_refuses_local_auth(tmp_path):
    env = {**production_env(), "LOCAL_AUTH_ENABLED": "true"}
    assert_refused(manage(env, tmp_path, "check", "--deploy"), "LOCAL_AUTH_ENABLED")


def test_production_refuses_debug(tmp_path):
    assert_refused(manage({**production_env(), "DEBUG": "true"}, tmp_path, "check", "--deploy"), "DEBUG")


def test_unknown_environment_is_refused(tmp_path):
    assert_refused(manage({"ENVIRONMENT": "prod"}, tmp_path, "check"), "ENVIRONMENT")


def test_production_switches_on_https_only_settings(tmp_path):
    values = settings_in(
        production_env(),
        tmp_path,
        "DEBUG",
        "LOCAL_AUTH_ENABLED",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "STATIC_ROOT",
    )
    assert values == {
        "DEBUG": False,
        "LOCAL_AUTH_ENABLED": False,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "STATIC_ROOT": str(PROJECT_ROOT / "staticfiles"),
    }


def test_local_defaults_need_nothing_set(tmp_path):
    values = settings_in({}, tmp_path, "ENVIRONMENT", "DEBUG", "LOCAL_AUTH_ENABLED", "ALLOWED_HOSTS", "SECRET_KEY")
    assert values["ENVIRONMENT"] == "local" and values["DEBUG"] is False and values["LOCAL_AUTH_ENABLED"] is True
    assert "127.0.0.1" in values["ALLOWED_HOSTS"] and "localhost" in values["ALLOWED_HOSTS"]
    assert values["SECRET_KEY"]


# --- devtoken ----------------------------------------------------------------------------------------------------


def test_devtoken_prints_a_token_locally(tmp_path):
    result = manage({"LOCAL_JWT_KEY_FILE": str(tmp_path / "key.pem")}, tmp_path, "devtoken", "alice")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    key = serialization.load_pem_private_key((tmp_path / "key.pem").read_bytes(), password=None).public_key()
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="lego-api-local-client", issuer="lego-api-local")
    assert (claims["sub"], claims["token_use"]) == ("alice", "id")  # SPEC §2.2 defaults
    assert "kid" in jwt.get_unverified_header(token)
    assert claims["exp"] - claims["iat"] == 3600  # --ttl 3600 by default


@pytest.mark.parametrize(
    "env",
    [
        pytest.param(production_env(), id="production"),
        pytest.param({"ENVIRONMENT": "local", "LOCAL_AUTH_ENABLED": "false"}, id="local-auth-disabled"),
        pytest.param({**production_env(), "ENVIRONMENT": "staging"}, id="staging-default"),
        pytest.param({**production_env(), "LOCAL_AUTH_ENABLED": "true"}, id="production-with-local-auth"),
    ],
)
def test_devtoken_is_refused_and_prints_no_token(tmp_path, env):
    env = {**env, "LOCAL_JWT_KEY_FILE": str(tmp_path / "key.pem")}
    result = manage(env, tmp_path, "devtoken", "alice")
    assert result.returncode != 0
    assert result.stdout.strip() == ""
    assert "eyJ" not in result.stdout + result.stderr
    assert not (tmp_path / "key.pem").exists()


# --- CORS defaults (SPEC §2.6) -------------------------------------------------------------------------------------


def test_cors_defaults_to_the_dev_servers_locally(tmp_path):
    values = settings_in({}, tmp_path, "CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS")
    assert values == {"CORS_ALLOWED_ORIGINS": LOCAL_ORIGINS, "CSRF_TRUSTED_ORIGINS": LOCAL_ORIGINS}


@pytest.mark.parametrize("environment", ["dev", "staging", "production"])
def test_cors_defaults_to_no_origin_outside_local(tmp_path, environment):
    env = {**production_env(), "ENVIRONMENT": environment}
    assert settings_in(env, tmp_path, "CORS_ALLOWED_ORIGINS") == {"CORS_ALLOWED_ORIGINS": []}


@pytest.mark.parametrize("environment", ["local", "production"])
def test_cors_origins_come_from_the_variable_when_set(tmp_path, environment):
    env = {**production_env(), "ENVIRONMENT": environment}
    env["CORS_ALLOWED_ORIGINS"] = "https://app.example.com, https://admin.example.com"
    values = settings_in(env, tmp_path, "CORS_ALLOWED_ORIGINS", "CSRF_TRUSTED_ORIGINS")
    expected = ["https://app.example.com", "https://admin.example.com"]
    assert values == {"CORS_ALLOWED_ORIGINS": expected, "CSRF_TRUSTED_ORIGINS": expected}


# --- Which source wins -----------------------------------------------------------------------------------------------


def test_database_url_replaces_the_embedded_database(tmp_path):
    env = {"DATABASE_URL": "postgres://someone:pw@db.example.com:6543/other"}
    database = settings_in(env, tmp_path, "DATABASES")["DATABASES"]["default"]
    assert (database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
        "db.example.com",
        6543,
        "other",
        "someone",
    )


def test_without_database_url_locally_the_embedded_cluster_is_used(tmp_path):
    database = settings_in({}, tmp_path, "DATABASES")["DATABASES"]["default"]
    assert database["ENGINE"].endswith("postgresql")
    assert database["HOST"] == str(tmp_path.resolve() / "postgres")  # no server yet: the cluster directory


def test_optional_backends_switch_on_with_their_variables(tmp_path):
    names = ("CACHES", "STORAGES", "OPENSEARCH_URL")
    plain = settings_in({}, tmp_path, *names)
    assert plain["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert plain["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")
    assert plain["OPENSEARCH_URL"] is None

    env = {"REDIS_URL": "redis://127.0.0.1:1/0", "STORAGE_BUCKET": "bucket", "OPENSEARCH_URL": "http://127.0.0.1:2"}
    configured = settings_in(env, tmp_path, *names)
    assert configured["CACHES"]["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert configured["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:1/0"
    assert configured["STORAGES"]["default"]["BACKEND"] == "lego_api.core.storage.backends.S3Storage"
    assert configured["STORAGES"]["default"]["OPTIONS"]["bucket_name"] == "bucket"
    assert configured["OPENSEARCH_URL"] == "http://127.0.0.1:2"


def test_cognito_issuer_is_derived_from_the_pool_unless_overridden(tmp_path):
    names = ("COGNITO_ISSUER", "COGNITO_JWKS_URL")
    derived = settings_in(production_env(), tmp_path, *names)
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    assert derived == {"COGNITO_ISSUER": issuer, "COGNITO_JWKS_URL": f"{issuer}/.well-known/jwks.json"}

    env = {**production_env(), "COGNITO_ISSUER": "http://127.0.0.1:9/pool"}
    del env["COGNITO_USER_POOL_ID"]  # an explicit issuer is enough for production
    overridden = settings_in(env, tmp_path, *names)
    assert overridden == {
        "COGNITO_ISSUER": "http://127.0.0.1:9/pool",
        "COGNITO_JWKS_URL": "http://127.0.0.1:9/pool/.well-known/jwks.json",
    }
    env["COGNITO_JWKS_URL"] = "http://127.0.0.1:9/keys"
    assert settings_in(env, tmp_path, "COGNITO_JWKS_URL") == {"COGNITO_JWKS_URL": "http://127.0.0.1:9/keys"}


@pytest.fixture
def moto_env(services) -> dict[str, str]:
    """Credentials and endpoints for the harness's moto server (Secrets Manager and SSM)."""
    cognito = services.services.get("cognito")
    if cognito is None:
        pytest.skip("moto is not run by the harness here (Cognito endpoint overridden)")
    endpoint = cognito.env["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        "AWS_ENDPOINT_URL_SSM": endpoint,
    }


def moto_client(service: str, env: dict[str, str]):
    endpoint = env["AWS_ENDPOINT_URL_SECRETS_MANAGER"]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_secrets_id_fills_production_settings_and_set_variables_win(tmp_path, moto_env):
    name = f"lego/test/{secrets.token_hex(4)}"
    stored = {"SECRET_KEY": secrets.token_urlsafe(64), "DATABASE_URL": "postgres://from:secret@db.example.com/lego"}
    moto_client("secretsmanager", moto_env).create_secret(Name=name, SecretString=json.dumps(stored))
    env = {**production_env(), **moto_env, "SECRETS_ID": name, "DATABASE_URL": "postgres://from:env@env.example.com/e"}
    del env["SECRET_KEY"]

    values = settings_in(env, tmp_path, "SECRET_KEY", "DATABASE_URL")
    assert values == {"SECRET_KEY": stored["SECRET_KEY"], "DATABASE_URL": "postgres://from:env@env.example.com/e"}


def test_secrets_id_may_be_an_ssm_path(tmp_path, moto_env):
    path = f"/lego/test-{secrets.token_hex(4)}"
    ssm = moto_client("ssm", moto_env)
    ssm.put_parameter(Name=f"{path}/SECRET_KEY", Value="k" * 64, Type="SecureString")
    ssm.put_parameter(Name=f"{path}/ALLOWED_HOSTS", Value="ssm.example.com", Type="String")
    env = {**production_env(), **moto_env, "SECRETS_ID": path}
    del env["SECRET_KEY"], env["ALLOWED_HOSTS"]

    values = settings_in(env, tmp_path, "SECRET_KEY", "ALLOWED_HOSTS")
    assert values == {"SECRET_KEY": "k" * 64, "ALLOWED_HOSTS": ["ssm.example.com"]}


# --- Values that do not parse stop start-up (issue #7, defect 12) ----------------------------------------------------

SETTINGS_FILE = PROJECT_ROOT / "lego_api" / "settings.py"
# Per parser: a typo it must refuse, and values it must take.
TYPOS = {
    "env_bool": ["flase", "ture", "2", "enabled"],
    "env_int": ["12x", "1.5", "1e3", "ten", "-1"],
    "env_rate": ["100", "100/15min", "100 / 900", "0/900", "100/0", "100/900/1"],
    "env_choice": ["nope"],
    "env_origins": ["localhost:5173", "http://localhost:5173/", "https://app.example.com/path", "ftp://x.example.com"],
}


def parsed_variables() -> dict[str, str]:
    """Every variable settings.py reads through a parsing helper, with the helper's name: read from the source, so a
    variable added later is covered without editing this test."""
    found = {}
    for node in ast.walk(ast.parse(SETTINGS_FILE.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TYPOS:
            first = node.args[0]
            assert isinstance(first, ast.Constant), f"line {node.lineno}: name the variable literally"
            found[first.value] = node.func.id
    return found


def settings_outcomes(cases: list[tuple[str, str]], tmp_path: Path) -> list[str | None]:
    """For each (variable, value), run settings.py with only that variable set: None, or the ImproperlyConfigured
    message. One fresh process runs them all (each case executes the settings module anew)."""
    code = (
        "import json, os, runpy, sys\n"
        "from django.core.exceptions import ImproperlyConfigured\n"
        "outcomes = []\n"
        "for name, value in json.loads(sys.argv[1]):\n"
        "    os.environ[name] = value\n"
        "    try:\n"
        "        runpy.run_path(sys.argv[2])\n"
        "        outcomes.append(None)\n"
        "    except ImproperlyConfigured as exc:\n"
        "        outcomes.append(str(exc))\n"
        "    del os.environ[name]\n"
        "print(json.dumps(outcomes))\n"
    )
    result = run(["-c", code, json.dumps(cases), str(SETTINGS_FILE)], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_parsed_variables_are_found():
    variables = parsed_variables()
    assert variables["RATE_LIMIT_ENABLED"] == "env_bool"
    assert variables["DB_CONN_MAX_AGE"] == "env_int"
    assert variables["RATE_LIMIT_UPLOAD"] == "env_rate"
    assert variables["LOG_LEVEL"] == "env_choice"
    assert variables["CORS_ALLOWED_ORIGINS"] == "env_origins"
    assert len(variables) >= 20


def test_a_value_that_does_not_parse_stops_start_up_naming_its_variable(tmp_path):
    cases = [(name, typo) for name, parser in parsed_variables().items() for typo in TYPOS[parser]]
    for (name, typo), outcome in zip(cases, settings_outcomes(cases, tmp_path), strict=True):
        assert outcome is not None, f"{name}={typo!r} was accepted"
        assert name in outcome and repr(typo) in outcome, outcome


def test_the_accepted_spellings_parse(tmp_path):
    cases = [
        ("RATE_LIMIT_ENABLED", "FALSE"),
        ("RATE_LIMIT_ENABLED", " off "),
        ("RATE_LIMIT_ENABLED", "0"),
        ("TASKS_EAGER", "Yes"),
        ("TASKS_EAGER", "1"),
        ("DB_CONN_MAX_AGE", "0"),
        ("IMAGE_MAX_PIXELS", " 1000 "),
        ("RATE_LIMIT_GENERAL", "1000/60"),
        ("LOG_LEVEL", "DEBUG"),
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com, http://localhost:5173, http://[::1]:3000"),
    ]
    assert settings_outcomes(cases, tmp_path) == [None] * len(cases)
    values = settings_in(
        {"RATE_LIMIT_ENABLED": "Off", "TASKS_EAGER": "yes", "DB_CONN_MAX_AGE": " 7 "},
        tmp_path,
        "RATE_LIMIT_ENABLED",
        "TASKS_EAGER",
        "DATABASES",
    )
    assert values["RATE_LIMIT_ENABLED"] is False and values["TASKS_EAGER"] is True
    assert values["DATABASES"]["default"]["CONN_MAX_AGE"] == 7


def test_a_typo_in_rate_limit_enabled_stops_manage_py(tmp_path):
    """The reported case: `RATE_LIMIT_ENABLED=flase` used to switch the limiter off without a word."""
    result = manage({"RATE_LIMIT_ENABLED": "flase"}, tmp_path, "check")
    assert_refused(result, "RATE_LIMIT_ENABLED", "'flase'")


@pytest.mark.parametrize(
    "url,words",
    [
        ("postgres://lego:secret@db.example.com:notaport/lego", ["DATABASE_URL", "not a valid database URL"]),
        ("mysql://lego:secret@db.example.com/lego", ["DATABASE_URL", "PostgreSQL"]),
        ("db.example.com/lego", ["DATABASE_URL"]),
    ],
)
def test_a_database_url_that_does_not_parse_is_refused_without_showing_it(tmp_path, url, words):
    [outcome] = settings_outcomes([("DATABASE_URL", url)], tmp_path)
    assert outcome is not None
    for word in words:
        assert word in outcome
    assert "secret" not in outcome


def test_site_url_must_be_absolute(tmp_path):
    [outcome] = settings_outcomes([("SITE_URL", "api.example.com")], tmp_path)
    assert outcome is not None and "SITE_URL" in outcome
