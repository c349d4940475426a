"""The packaged handler under test: the Lambda zip built once per run (cached under build/ by a hash of its
inputs), unzipped, and served by `lambda_runner.py` in a separate isolated Python process with only the package on
its path, pointed at the harness's real services through environment variables."""

from __future__ import annotations

import base64
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg2
import pytest

from tools import packaging

RUNNER = Path(__file__).with_name("lambda_runner.py")
MARKER = "\x1eLAMBDA-RESULT "
API_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
ACCOUNT_ARN = "arn:aws:events:us-east-1:123456789012:rule"
TEST_SECRET_KEY = "deploy-test-" + secrets.token_hex(24)  # never written anywhere but the subprocess environment
# The harness's variables that point the app at the real services.
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_BUCKET",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "OPENSEARCH_URL",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
    "COGNITO_ISSUER",
    "COGNITO_JWKS_URL",
    "COGNITO_APP_CLIENT_ID",
    "COGNITO_USER_POOL_ID",
    "RATE_LIMIT_ENABLED",
)


@pytest.fixture(scope="session")
def package(services, tmp_path_factory) -> packaging.BuildResult:
    """The `dev` stage zip, written where no other run overwrites it (the tree is cached under build/lambda/)."""
    output = tmp_path_factory.mktemp("package") / "lego-api-dev.zip"
    return packaging.build("dev", output=output, log=lambda message: print(f"\n[package] {message}"))


@pytest.fixture(scope="session")
def unzipped(package, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("lambda-task")
    with zipfile.ZipFile(package.zip_path) as archive:
        archive.extractall(target)
    return target


def lambda_env(**overrides: str | None) -> dict[str, str]:
    """A Lambda-like environment: the harness's service variables, the dev stage's settings, nothing of ours."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only on Lambda (the runner also passes -B: -I ignores this)
        "PYTHONUNBUFFERED": "1",
    }
    env.update({name: os.environ[name] for name in SERVICE_VARIABLES if os.environ.get(name)})
    env.update(
        {
            "ENVIRONMENT": "dev",
            "SECRET_KEY": TEST_SECRET_KEY,
            "ALLOWED_HOSTS": ".execute-api.us-east-1.amazonaws.com",
            "LOCAL_AUTH_ENABLED": "false",
            "AWS_LAMBDA_FUNCTION_NAME": "lego-api-dev",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_REGION", "us-east-1"),  # the runtime sets both
            "TASKS_WORKER_FUNCTION": "lego-api-dev-worker",
            "TASKS_EAGER": "true",  # tasks run inline in the subprocess instead of invoking the worker
            "OPENSEARCH_INDEX_PREFIX": "lego-deploytest",
            "INSTANTIATE_LAMBDA_HANDLER_ON_IMPORT": "true",
            "LOG_LEVEL": "INFO",
        }
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass
class Invocation:
    ok: bool
    result: Any
    ms: float
    logs: list[str] = field(default_factory=list)
    error: str | None = None

    def emf(self, metric: str) -> list[dict[str, Any]]:
        """The EMF documents for `metric` printed during this invocation."""
        found = []
        for line in self.logs:
            if line.startswith("{") and '"_aws"' in line:
                document = json.loads(line)
                if metric in document:
                    found.append(document)
        return found


class PackagedLambda:
    """One runner process serving events in order (the first pays the cold start)."""

    def __init__(self, package_dir: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", str(RUNNER), str(package_dir)],
            cwd=package_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.init = self._next_result(timeout=60)
        if not self.init.ok:
            raise AssertionError(f"the package did not import: {self.init.error}\n" + "\n".join(self.init.logs))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _next_result(self, timeout: float) -> Invocation:
        logs: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no answer from the packaged handler in time:\n" + "\n".join(logs)) from None
            if line is None:
                raise AssertionError(f"the runner exited ({self.process.wait()}):\n" + "\n".join(logs))
            if line.startswith(MARKER):
                reply = json.loads(line[len(MARKER) :])
                error = None if reply["ok"] else f"{reply['error']}\n{reply.get('traceback', '')}"
                return Invocation(reply["ok"], reply.get("result"), reply["ms"], logs, error)
            logs.append(line)

    def invoke(self, event: dict[str, Any], timeout: float = 60) -> Invocation:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"event": event}) + "\n")
        self.process.stdin.flush()
        return self._next_result(timeout)

    def snapshot(self, timeout: float = 60) -> tuple[Invocation, Invocation | None]:
        """SnapStart played with a fork (lambda_runner.py): (the before-snapshot report, the restored child's)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"snapshot": True}) + "\n")
        self.process.stdin.flush()
        before = self._next_result(timeout)
        return before, (self._next_result(timeout) if before.ok else None)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def packaged_lambda(unzipped) -> PackagedLambda:
    """The packaged API function, started cold, its database migrated through Zappa's `manage` event."""
    runner = PackagedLambda(unzipped, lambda_env())
    runner.migrate = runner.invoke({"manage": "migrate --noinput"}, timeout=300)
    assert runner.migrate.ok, runner.migrate.error
    yield runner
    runner.close()


# --- Events, shaped as API Gateway (REST, proxy integration) and EventBridge send them ---------------------------


def api_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes | str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    all_headers = {
        "Host": API_HOST,
        "User-Agent": "deploy-test",
        "X-Forwarded-For": "203.0.113.7, 198.51.100.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        "Accept": "*/*",
    }
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    all_headers.update(headers or {})
    is_binary = isinstance(body, bytes)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": f"apigw-{secrets.token_hex(8)}",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "deploy-test"},
            "domainName": API_HOST,
            "apiId": API_HOST.split(".")[0],
        },
        "body": base64.b64encode(body).decode() if is_binary else body,
        "isBase64Encoded": is_binary,
    }


def scheduled_event(rule_name: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2025-01-15T10:00:00Z",
        "region": "us-east-1",
        "resources": [f"{ACCOUNT_ARN}/{rule_name}"],
        "detail": {},
    }


def response_json(invocation: Invocation) -> dict[str, Any]:
    assert invocation.ok, invocation.error
    body = invocation.result["body"]
    if invocation.result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body)


def moto_client(service: str):
    """A boto3 client of the harness's moto server (it serves every AWS API), and its URL."""
    import boto3

    moto_url = os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(service, endpoint_url=moto_url, region_name="us-east-1", **credentials), moto_url


@pytest.fixture
def pg():
    """A connection to the database the packaged handler uses (autocommit)."""
    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    connection = psycopg2.connect(
        dbname=config["NAME"], user=config["USER"], host=config["HOST"], port=config["PORT"] or None
    )
    connection.autocommit = True
    yield connection
    connection.close()
