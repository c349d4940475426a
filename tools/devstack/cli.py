"""`python -m tools.devstack serve|env`: start the stack for `make run`, `make stack` and `make db`, export its
variables (and write them to ROOT/env.sh for manage.py in another terminal), migrate and run the development
server, and stop everything on Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lego_api.local_database import ENV_FILE
from tools.devstack.network import LOOPBACK, http_ok
from tools.devstack.services import ProcessService, Service, terminate
from tools.devstack.stack import plan_stack, stack_env, start_services, stop_all
from tools.devstack.watchdog import watchdog

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = PROJECT_ROOT / ".local"


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def _on_signal(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # cleanup is bounded; don't let a second Ctrl-C cut it short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Interrupted(signum)


def _say(message: str) -> None:
    print(f"devstack: {message}", file=sys.stderr, flush=True)


def _start_for_cli(root: Path, full: bool) -> list[Service]:
    began = time.monotonic()
    services = plan_stack(root, full=full)
    planned = ", ".join(s.name for s in services) or "nothing (all overridden by the environment)"
    _say(f"starting {planned} (data and logs in {root})")
    start_services(services)
    timings = ", ".join(f"{s.name} {s.started_in or 0:.1f}s" for s in services)
    _say(f"ready in {time.monotonic() - began:.1f}s ({timings})")
    return services


# What points the app at its services when set beforehand (plan_stack then starts no stand-in for it).
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_BUCKET",
    "AWS_ENDPOINT_URL_S3",
    "OPENSEARCH_URL",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
)


def _export(services: Sequence[Service], root: Path) -> dict[str, str]:
    """Put the services' variables in our environment (for manage.py); return what another terminal needs to use
    the same services: those variables, the ones the environment already set instead, and LOCAL_DIR."""
    env = stack_env(services)
    for key, value in env.items():
        os.environ[key] = value
    os.environ.setdefault("ENVIRONMENT", "local")
    os.environ.setdefault("LOCAL_DIR", str(root))
    shared = {key: os.environ[key] for key in SERVICE_VARIABLES if os.environ.get(key)}
    return {**shared, **env, "LOCAL_DIR": os.environ["LOCAL_DIR"]}


@contextlib.contextmanager
def _env_file(root: Path, env: dict[str, str]) -> Iterator[Path]:
    """`root/env.sh` with `export` lines for the running services, so that `manage.py` in another terminal
    (`. .local/env.sh`) uses the same ones; removed when they stop."""
    path = root / ENV_FILE
    lines = ["# Written by `python -m tools.devstack` while its services run; removed when they stop."]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
    path.touch(mode=0o600)  # a DATABASE_URL may hold a password
    path.write_text("\n".join(lines) + "\n")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _app_settings() -> Any | None:
    """The project's settings as `manage.py` will read them, or None (said in one line) when a value does not
    parse: that stops us here, before anything starts."""
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    try:
        return importlib.import_module("lego_api.settings")
    except ImproperlyConfigured as exc:
        _say(f"configuration error: {exc}")
        return None


def _manage(*args: str, quiet: bool = False) -> int:
    output = subprocess.DEVNULL if quiet else None
    command = [sys.executable, str(PROJECT_ROOT / "manage.py"), *args]
    return subprocess.run(command, cwd=PROJECT_ROOT, stdout=output, stderr=output).returncode  # noqa: S603


def _rate(value: str, what: str) -> str:
    """`100/900` -> `100 requests / 15 min`."""
    count, _, seconds = value.partition("/")
    for unit, size in (("h", 3600), ("min", 60)):
        if int(seconds) % size == 0:
            return f"{count} {what} / {int(seconds) // size} {unit}"
    return f"{count} {what} / {seconds} s"


def _banner(port: int, services: Sequence[Service], app: Any, *, full: bool, env_file: Path) -> str:
    """What `make run` prints once the server is about to listen: the URLs that answer, how to get a token and
    use manage.py alongside, the rate limits in force (they stop a developer within minutes) and the services."""
    api = f"http://{LOOPBACK}:{port}"
    make = "make stack" if full else "make run"
    if app.RATE_LIMIT_ENABLED:
        limits = (
            f"{_rate(app.RATE_LIMIT_GENERAL, 'requests')}, {_rate(app.RATE_LIMIT_UPLOAD, 'uploads')} per user or IP"
            f"\n             to relax: RATE_LIMIT_ENABLED=false {make}  (or RATE_LIMIT_GENERAL=1000/60 {make})"
        )
    else:
        limits = "off (RATE_LIMIT_ENABLED=false)"
    # Not app.REDIS_URL: the settings were read before the services (and their variables) were there.
    cache = "Redis, shared" if os.environ.get("REDIS_URL") else "local memory, this server process only (see README)"
    try:
        shown_env_file = env_file.relative_to(PROJECT_ROOT)
    except ValueError:
        shown_env_file = env_file
    lines = [
        "",
        f"  API        {api}/   (lists the URLs below)",
        f"  Health     {api}/health",
        f"  Docs       {api}/api/docs/   (OpenAPI document: {api}/api/schema/)",
        f"  Admin      {api}/{app.ADMIN_URL}   (create a user: .venv/bin/python manage.py createsuperuser)",
        "  Token      make token TOKEN_USER=alice   (or: .venv/bin/python manage.py devtoken alice)",
        f"  Limits     {limits}",
        f"  Cache      {cache}",
        f"  manage.py  in another terminal: . {shown_env_file}; .venv/bin/python manage.py <command>",
        "  Services:",
    ]
    lines += [f"    {s.name:<11} {s.where}" for s in services]
    lines += ["  Ctrl-C stops the server and every service.", ""]
    return "\n".join(lines)


# What `--workers N` sets unless the environment already does: a deployed stage's settings (debug off, a stage
# ENVIRONMENT, a real secret key, explicit hosts), with the local issuer still on so that `make token` and the load
# tests can mint tokens (it is refused only in production).
PRODUCTION_LIKE = {
    "ENVIRONMENT": "dev",
    "DEBUG": "false",
    "ALLOWED_HOSTS": f"{LOOPBACK},localhost",
    "LOCAL_AUTH_ENABLED": "true",
}


def production_like_env() -> dict[str, str]:
    """PRODUCTION_LIKE, each value only where the environment has none, plus a random SECRET_KEY for the run."""
    import secrets

    defaults = {**PRODUCTION_LIKE, "SECRET_KEY": secrets.token_urlsafe(50)}
    return {key: value for key, value in defaults.items() if not os.environ.get(key)}


def server_command(port: int, workers: int) -> list[str]:
    """`manage.py runserver` (workers 0), or gunicorn with `workers` sync workers: what a deployed stage runs
    (one request at a time per process, debug off), for load tests and benchmarks. gunicorn is a dev tool here;
    Lambda runs the WSGI app through Zappa's handler."""
    if workers <= 0:
        return [sys.executable, str(PROJECT_ROOT / "manage.py"), "runserver", f"{LOOPBACK}:{port}", "--noreload"]
    return [
        sys.executable, "-m", "gunicorn", "lego_api.wsgi:application",
        "--bind", f"{LOOPBACK}:{port}", "--workers", str(workers), "--worker-class", "sync",
        "--backlog", "2048", "--timeout", "60", "--graceful-timeout", "5", "--no-control-socket",
        "--config", "python:tools.devstack.gunicorn_conf",
    ]  # fmt: skip


def api_server(port: int, workers: int, log_path: Path) -> ProcessService:
    """The API under gunicorn (`server_command`) as a service, for the load tests and benchmarks: `start()` returns
    once `/health?shallow=1` answers 200 (and fails if the process exits first), `stop()` sends SIGTERM and kills
    it after 20 s; the watchdog stops it should our process die. It runs with our environment."""
    base = f"http://{LOOPBACK}:{port}"
    return ProcessService(
        "api",
        {},
        base,
        log_path,
        command=server_command(port, workers),
        ready=lambda: http_ok(f"{base}/health?shallow=1"),
        cwd=PROJECT_ROOT,
        stop_grace=20,
    )


def serve(root: Path, *, full: bool, port: int, workers: int = 0) -> int:
    """Start the stack, migrate, then run `manage.py runserver` (or, with `workers`, gunicorn with the
    production-like settings) until it exits or we are interrupted."""
    services: list[Service] = []
    server: subprocess.Popen[bytes] | None = None
    production = production_like_env() if workers > 0 else {}  # what the caller's environment leaves unset
    try:
        app = _app_settings()
        if app is None:
            return 1
        services = _start_for_cli(root, full)
        env = _export(services, root)
        if production:  # after the services: a stage ENVIRONMENT requires their variables (DATABASE_URL)
            os.environ.update(production)
            env.update({k: v for k, v in production.items() if k != "SECRET_KEY"})
        if _manage("migrate", "--noinput") != 0:
            _say("migrate failed")
            return 1
        if production and _manage("collectstatic", "--noinput", quiet=True) != 0:  # whitenoise serves the admin's
            _say("collectstatic failed")
            return 1
        if _manage("help", "ensure_local_keys", quiet=True) == 0 and _manage("ensure_local_keys") != 0:
            _say("ensure_local_keys failed")
            return 1
        with _env_file(root, env) as env_file:
            print(_banner(port, services, app, full=full, env_file=env_file), flush=True)
            server = subprocess.Popen(server_command(port, workers), cwd=PROJECT_ROOT, process_group=0)  # noqa: S603
            watchdog.watch(server.pid, signal.SIGINT)
            return server.wait()
    except _Interrupted:
        return 0
    finally:
        if server is not None:
            terminate(server, signal.SIGINT)  # runserver exits 0 on KeyboardInterrupt, gunicorn stops on SIGINT
            watchdog.forget(server.pid)
        if services:
            _say("stopping services")
            stop_all(services)


def print_env(root: Path, *, full: bool) -> int:
    """Start the stack, print `export` lines for its variables (also in root/env.sh), and wait until interrupted."""
    services: list[Service] = []
    try:
        if _app_settings() is None:
            return 1
        services = _start_for_cli(root, full)
        env = _export(services, root)
        with _env_file(root, env) as env_file:
            for key, value in env.items():
                print(f"export {key}={shlex.quote(value)}", flush=True)
            _say(f"running; the same lines are in {env_file}; Ctrl-C stops every service")
            while True:
                signal.pause()
    except _Interrupted:
        return 0
    finally:
        if services:
            _say("stopping services")
            stop_all(services)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.devstack", description="Local services for development.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the stack, migrate, and run the development server")
    env_parser = commands.add_parser("env", help="start the stack and print its variables as export lines")
    for sub in (serve_parser, env_parser):
        sub.add_argument("--full", action="store_true", help="also Redis, S3, OpenSearch and moto (Cognito)")
        sub.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="data and logs (default: .local/)")
    serve_parser.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    serve_parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="serve with gunicorn and N workers, debug off, ENVIRONMENT=dev (production-like; default: runserver)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    root = args.root.expanduser().resolve()
    if args.command == "serve":
        return serve(root, full=args.full, port=args.port, workers=args.workers)
    return print_env(root, full=args.full)
