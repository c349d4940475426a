"""The stack: which services to start (those the environment does not already provide), starting them in
parallel, and stopping them."""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lego_api.local_database import CLUSTER_DIR
from tools.devstack.network import remembered_ports
from tools.devstack.postgres import PostgresService
from tools.devstack.servers import SEAWEED_PORTS, cognito_service, opensearch_service, redis_service, s3_service
from tools.devstack.services import Service


def _is_set(name: str) -> bool:
    return bool(os.environ.get(name))


def plan_stack(root: Path, *, full: bool, pg_root: Path | None = None) -> list[Service]:
    """The services `start_stack` would start (not started), minus those the environment already provides."""
    root = Path(root).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    services: list[Service] = []
    if not _is_set("DATABASE_URL"):
        services.append(PostgresService(Path(pg_root or root).expanduser().resolve() / CLUSTER_DIR))
    if not full:
        return services
    if not _is_set("REDIS_URL"):
        services.append(redis_service(root, *remembered_ports(root, "redis", 1)))
    if not (_is_set("AWS_ENDPOINT_URL_S3") or _is_set("STORAGE_BUCKET")):
        services.append(s3_service(root, remembered_ports(root, "s3", len(SEAWEED_PORTS))))
    if not _is_set("OPENSEARCH_URL"):
        services.append(opensearch_service(root, *remembered_ports(root, "opensearch", 1)))
    if not _is_set("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"):
        services.append(cognito_service(root, *remembered_ports(root, "cognito", 1)))
    return services


def start_stack(root: Path, *, full: bool, pg_root: Path | None = None) -> list[Service]:
    """Start PostgreSQL (its cluster under `pg_root` or `root`) and, with `full`, Redis, S3, OpenSearch, moto.

    Services start in parallel; on any failure the others are stopped and the error is raised. Everything is
    stopped at exit (atexit) and, should this process be killed, by the watchdog.
    """
    return start_services(plan_stack(root, full=full, pg_root=pg_root))


def start_services(services: list[Service]) -> list[Service]:
    """Start the services in parallel (threads); on failure stop them all and raise. Stopped at exit too."""
    atexit.register(stop_all, services)
    try:
        with ThreadPoolExecutor(max_workers=max(1, len(services)), thread_name_prefix="devstack") as pool:
            for future in [pool.submit(service.start) for service in services]:
                future.result()
    except BaseException:
        stop_all(services)
        raise
    return services


def stop_all(services: Sequence[Service]) -> None:
    """Stop the services in reverse order; a failure is reported and the rest are still stopped."""
    for service in reversed(services):
        try:
            service.stop()
        except Exception as exc:  # noqa: BLE001 - keep stopping the others
            print(f"devstack: stopping {service.name} failed: {exc!r}", file=sys.stderr)


def stack_env(services: Sequence[Service]) -> dict[str, str]:
    """All the services' variables in one mapping."""
    env: dict[str, str] = {}
    for service in services:
        env.update(service.env)
    return env
