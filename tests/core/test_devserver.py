"""Running it locally as a newcomer would (issue #7): `manage.py runserver` and `make run` (devstack `serve`) as real
processes on real ports. No `Server` header (SPEC §2.5), a missing database is one line naming the fix, the banner
and `/` say what answers, and `make token` does not take the shell's login name."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest
from django.test import override_settings

from tools import devstack

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only PATH, HOME and a scratch LOCAL_DIR, as in a fresh terminal (none of the harness's variables)."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), "LOCAL_DIR": str(tmp_path)}
    env["LOCAL_JWT_KEY_FILE"] = str(tmp_path / "jwt-private-key.pem")
    env.update(extra)
    return env


def wait_for_port(process: subprocess.Popen, port: int, deadline_seconds: float = 120) -> None:
    """Until something accepts on the port (or the process dies: then its output explains why)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, output: Path) -> Iterator[subprocess.Popen]:
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, process_group=0
        )
        try:
            wait_for_port(process, port)
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def finish(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run to the end in the project (the timeout only keeps a hang from stalling the suite)."""
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


def only_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """It failed, with one line on stderr and no traceback."""
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def get(port: int, path: str, method: str = "GET") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    connection.request(method, path)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def raw_exchange(port: int, request: bytes) -> bytes:
    """What the server sends back to bytes that are not a valid HTTP request (answered by http.server itself)."""
    with socket.create_connection((LOOPBACK, port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def assert_no_server_header(response: http.client.HTTPResponse) -> None:
    assert response.getheader("Server") is None, response.getheader("Server")
    assert response.getheader("X-Powered-By") is None
    assert response.getheader("X-Content-Type-Options") == "nosniff"  # our middleware answered


# --- manage.py runserver ------------------------------------------------------------------------------------------


def test_runserver_sends_no_server_header(services, tmp_path):
    """Defect 11: `Server: WSGIServer/0.2 CPython/3.11.x` was on every response of runserver (and so of make run)."""
    port = devstack.free_port()
    env = clean_env(tmp_path, DATABASE_URL=services.postgres.env["DATABASE_URL"])
    command = [sys.executable, "manage.py", "runserver", f"{LOOPBACK}:{port}", "--noreload"]
    with running(command, env, port, tmp_path / "runserver.log"):
        for method, path, status in [
            ("GET", "/health?shallow=1", 200),
            ("HEAD", "/health?shallow=1", 200),
            ("GET", "/", 200),
            ("GET", "/api/mocs", 401),
            ("POST", "/health", 405),
            ("GET", "/no/such/route", 404),
        ]:
            response = get(port, path, method)
            assert response.status == status, (method, path, response.body)
            assert_no_server_header(response)
        # Requests the WSGI app never sees: http.server answers them itself.
        too_long_header = b"GET / HTTP/1.1\r\nX-Filler: " + b"a" * 70000 + b"\r\n\r\n"  # 431
        too_long_line = b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"  # 414
        for request in (too_long_header, too_long_line):
            head = raw_exchange(port, request).split(b"\r\n\r\n", 1)[0].lower()
            assert head.startswith(b"http/1.")
            assert b"\r\nserver:" not in head, head


def test_runserver_without_a_database_says_so_in_one_line_and_exits(tmp_path):
    """With the autoreloader (runserver's default), it used to print a psycopg2 traceback and stay alive, not listening."""
    command = [sys.executable, "manage.py", "runserver", f"{LOOPBACK}:{devstack.free_port()}"]
    line = only_error_line(finish(command, clean_env(tmp_path)))  # no DATABASE_URL, no cluster under LOCAL_DIR
    assert "database not reachable at" in line and str(tmp_path / "postgres") in line
    assert "make run" in line and "DATABASE_URL" in line


@pytest.mark.parametrize(
    "args", [["migrate"], ["createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.com"]]
)
def test_other_commands_without_a_database_say_so_in_one_line(tmp_path, args):
    closed = f"postgres://postgres@{LOOPBACK}:{devstack.free_port()}/lego"
    line = only_error_line(finish([sys.executable, "manage.py", *args], clean_env(tmp_path, DATABASE_URL=closed)))
    assert line.startswith("Error: database not reachable at 127.0.0.1:") and "fix DATABASE_URL" in line


# --- make run (devstack serve) -------------------------------------------------------------------------------------


def test_make_run_banner_urls_and_index_answer(services, tmp_path):
    """`make run`'s own path (devstack serve, DATABASE_URL pointing at the harness's cluster so that nothing else is
    started): the banner lists the URLs that answer and the rate limits; `/` lists the same URLs; no Server header;
    env.sh exists while it runs (for manage.py in another terminal) and is gone after Ctrl-C."""
    port = devstack.free_port()
    root = tmp_path / "local"
    env = clean_env(tmp_path, DATABASE_URL=services.postgres.env["DATABASE_URL"])
    command = [sys.executable, "-m", "tools.devstack", "serve", "--port", str(port), "--root", str(root)]
    log = tmp_path / "serve.log"
    with running(command, env, port, log) as process:
        index = get(port, "/")
        assert index.status == 200
        assert_no_server_header(index)
        body = json.loads(index.body)
        assert body["success"] is True
        links = body["data"]["links"]
        assert set(links) >= {"health", "docs", "schema", "admin", "csrf", "jwks"}
        for name, url in links.items():
            answer = get(port, urlsplit(url).path)
            assert answer.status == (302 if name == "admin" else 200), (name, url)  # the admin sends you to log in
            assert_no_server_header(answer)

        env_file = (root / "env.sh").read_text()
        assert f"export DATABASE_URL={services.postgres.env['DATABASE_URL']}" in env_file.replace("'", "")
        banner = log.read_text()
        for url in (f"http://{LOOPBACK}:{port}/health", "/api/docs/", f"http://{LOOPBACK}:{port}/admin/"):
            assert url in banner
        assert "100 requests / 15 min" in banner and "10 uploads / 1 h" in banner
        assert "RATE_LIMIT_ENABLED=false make run" in banner
        assert "make token TOKEN_USER=alice" in banner
        assert "local memory, this server process only" in banner

        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
    assert not (root / "env.sh").exists()


def test_make_stack_workers_serves_production_like_through_gunicorn(services, tmp_path):
    """`make stack WORKERS=N` (devstack serve --workers): gunicorn workers with a deployed stage's settings
    (ENVIRONMENT=dev, debug off), still no Server header (gunicorn writes one unless told not to), the local issuer on
    for tokens, static files collected for the admin, and Ctrl-C stops it."""
    port = devstack.free_port()
    root = tmp_path / "local"
    env = clean_env(tmp_path, DATABASE_URL=services.postgres.env["DATABASE_URL"], STATIC_ROOT=str(tmp_path / "static"))
    command = [
        sys.executable,
        "-m",
        "tools.devstack",
        "serve",
        "--port",
        str(port),
        "--root",
        str(root),
        "--workers",
        "2",
    ]
    with running(command, env, port, tmp_path / "serve.log") as process:
        health = get(port, "/health?shallow=1")
        assert health.status == 200, health.body
        assert_no_server_header(health)
        index = get(port, "/")
        assert "admin" not in json.loads(index.body)["data"]["links"]  # the index outside ENVIRONMENT=local
        missing = get(port, "/no/such/route")
        assert missing.status == 404 and b"Traceback" not in missing.body  # DEBUG is off
        assert_no_server_header(get(port, "/api/mocs"))
        env_file = (root / "env.sh").read_text()
        assert "export ENVIRONMENT=dev" in env_file and "export LOCAL_AUTH_ENABLED=true" in env_file
        assert "SECRET_KEY" not in env_file  # the run's random key stays in the server's environment
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0


def test_make_run_refuses_a_setting_that_does_not_parse_before_starting_anything(tmp_path):
    root = tmp_path / "local"
    command = [sys.executable, "-m", "tools.devstack", "serve", "--port", "1", "--root", str(root)]
    line = only_error_line(finish(command, clean_env(tmp_path, RATE_LIMIT_ENABLED="flase")))
    assert "RATE_LIMIT_ENABLED" in line and "'flase'" in line
    assert not (root / "postgres").exists()  # nothing was started


# --- GET / ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_index_lists_what_answers_and_is_not_rate_limited(client):
    with override_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_GENERAL="1/900"):
        answers = [client.get("/") for _ in range(3)]
    for response in answers:
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response
    data = answers[0].json()["data"]
    assert data["version"] and data["environment"] == "local"
    assert data["links"]["health"] == "http://testserver/health"
    assert data["links"]["docs"] == "http://testserver/api/docs/"
    for name, url in data["links"].items():
        assert client.get(urlsplit(url).path).status_code == (302 if name == "admin" else 200), name


def test_index_leaves_the_admin_out_outside_local(client, settings):
    settings.IS_LOCAL = False
    assert "admin" not in client.get("/").json()["data"]["links"]


# --- make token -----------------------------------------------------------------------------------------------------


def make_token(tmp_path: Path, *args: str) -> str:
    """`make -s token ...` from a shell whose login name is `shell-login` (the venv is taken as up to date)."""
    env = clean_env(tmp_path, USER="shell-login", LOGNAME="shell-login")
    result = finish(["make", "-s", "-o", ".venv/.installed", "token", *args], env)
    assert result.returncode == 0, result.stderr
    return jwt.decode(result.stdout.strip(), options={"verify_signature": False})["sub"]


def test_make_token_does_not_take_the_shells_login_name(tmp_path):
    assert make_token(tmp_path) == "dev-user"
    assert make_token(tmp_path, "TOKEN_USER=alice") == "alice"
    assert make_token(tmp_path, "USER=bob") == "bob"  # given on make's command line, it is meant
