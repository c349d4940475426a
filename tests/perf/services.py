"""The benchmarks' services: the real local services a benchmark needs, started in its own directory, and their
variables (with the benchmark's settings) exported before Django reads the settings."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


def start_bench_services(
    root: Path,
    *,
    full: bool,
    only: Iterable[str] | None = None,
    unset: Iterable[str] = (),
    env: dict[str, str] | None = None,
) -> list:
    """Start PostgreSQL (and with `full` the rest of `make stack`; `only` keeps just the services named), export
    their variables, the local settings every benchmark shares, and `env` on top; returns the started services.

    As everywhere, a service variable already set replaces its local service; `unset` names the variables a
    benchmark removes first, for the backends it must run without (no search engine, no S3, ...)."""
    from tools import devstack

    for name in unset:
        os.environ.pop(name, None)
    planned = devstack.plan_stack(root, full=full)
    if only is not None:
        names = set(only)
        planned = [service for service in planned if service.name in names]
    started = devstack.start_services(planned)
    for service in started:
        os.environ.update(service.env)
    os.environ.update(
        {
            "ENVIRONMENT": "local",
            "LOCAL_AUTH_ENABLED": "true",
            "LOCAL_JWT_KEY_FILE": str(root / "jwt-private-key.pem"),
            "MEDIA_ROOT": str(root / "media"),
            "TASKS_EAGER": "true",
            "LOG_LEVEL": "WARNING",  # one JSON line per request would time the terminal
            "DJANGO_SETTINGS_MODULE": "lego_api.settings",
            **(env or {}),
        }
    )
    return started


@contextlib.contextmanager
def migrated_bench(prefix: str, start: Callable[[Path], list]) -> Iterator[Path]:
    """Services started by `start(root)` in a new temporary directory, Django set up as a test run has it and the
    database migrated, for the block; then the services stopped and the directory removed."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    started: list = []
    try:
        began = time.perf_counter()
        started = start(root)
        print(f"services started in {time.perf_counter() - began:.1f} s")

        import django

        django.setup()
        from django.core.management import call_command
        from django.test.utils import setup_test_environment

        setup_test_environment()
        call_command("migrate", verbosity=0)
        yield root
    finally:
        from tools import devstack

        devstack.stop_all(started)  # before removing their data directory (also registered at exit)
        shutil.rmtree(root, ignore_errors=True)
