"""Benchmark (issue 12 item 3): requests per second of cache hits against the floor, on one production-like server.

The server is what `make stack WORKERS=4` runs (tools/devstack's `server_command` and `production_like_env`):
gunicorn sync workers, DEBUG off, ENVIRONMENT=dev, in front of the full local stack (PostgreSQL, Redis, SeaweedFS S3,
the OpenSearch emulator, moto). The general rate limit is raised for the run, not switched off: the limiter is part
of the floor. Routes, each driven for a fixed time by a small multi-process HTTP load generator (one request at a
time per process, a new connection per request, as gunicorn's sync workers close them):

- floor: `GET /api/csrf` with a Bearer token: request id, CORS, JWT verification, the rate limiter and the headers
  that every hit pays too, and no view work;
- cached M1: `GET /api/mocs` (a page of 20 of the caller's 200 MOCs), `X-Cache: HIT`;
- cached M4: `GET /api/mocs/{id}` (a MOC with two parts lists), `X-Cache: HIT`.

The phases are interleaved (floor, M1, M4, floor, M1, M4, ...) so that machine noise falls on all of them alike.
Prints each route's RPS over all rounds, the ratios (overall, and the median of each round's ratio) to the floor (goals: M1 >= 0.80x, M4 >= 0.85x), the concurrency and the load
average. It prints figures; it is not a timed test.

    .venv/bin/python tests/perf/bench_cache_hit.py [--workers 4] [--concurrency 8] [--seconds 4] [--rounds 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.services import bench_session, start_bench_services  # noqa: E402

CALLER = "bench-cache-hit"
CALLER_MOCS = 200
GOALS = {"cached M1": 0.80, "cached M4": 0.85}
HUGE_RATE = "100000000/900"  # the limiter still counts every request (two Redis calls), it just never says 429


def start_services(root: Path) -> list:
    from tools.devstack.cli import production_like_env

    env = {
        **production_like_env(),
        "ENVIRONMENT": "dev",
        "TASKS_EAGER": "true",
        "LOG_LEVEL": "INFO",  # as deployed: one JSON line per request (to the server's log file)
        "RATE_LIMIT_GENERAL": HUGE_RATE,
        "LOCAL_DIR": str(root),
        "STATIC_ROOT": str(root / "static"),
        "OPENSEARCH_INDEX_PREFIX": "lego-bench-hit",
    }
    return start_bench_services(root, full=True, env=env)


def seed() -> str:
    """The caller's MOCs (one with two parts lists of 20 parts); returns that MOC's id."""
    from django.utils import timezone

    from mocs.models import Moc
    from tests.factories import MocFactory, MocPartFactory, MocPartsListFactory

    now = timezone.now()
    Moc.objects.bulk_create(
        Moc(
            id=uuid.uuid4(),
            user_id=CALLER,
            type="moc",
            title=f"Bench MOC {index}",
            description="A benchmark row with a description of ordinary length. " * 3,
            author="Jane Builder",
            parts_count=100 + index,
            theme="City",
            set_number=f"MOC-{index}",
            uploaded_date=now,
            tags=["city", "vehicle", "modular"][: index % 4],
            created_at=now,
            updated_at=now,
        )
        for index in range(CALLER_MOCS)
    )
    detailed = MocFactory(user_id=CALLER, title="Detailed MOC")
    for _ in range(2):
        parts_list = MocPartsListFactory(moc=detailed)
        for _ in range(20):
            MocPartFactory(parts_list=parts_list)
    return str(detailed.pk)


def request_bytes(port: int, path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    ).encode()


def fetch(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(raw)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def drive(task: tuple[int, bytes, bytes | None, float, float]) -> tuple[int, int, bytes]:
    """One load process: requests back to back from `start` until `end`; (good, bad, a bad response's head)."""
    port, raw, expect, start, end = task
    while time.time() < start:
        time.sleep(0.001)
    good = bad = 0
    sample = b""
    while time.time() < end:
        try:
            answer = fetch(port, raw)
        except OSError as error:
            bad, sample = bad + 1, repr(error).encode()
            continue
        head = answer[: answer.find(b"\r\n\r\n")]
        if head.startswith(b"HTTP/1.1 200") and (expect is None or expect in head):
            good += 1
        else:
            bad, sample = bad + 1, head[:300]
    return good, bad, sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--concurrency", type=int, default=8, help="load processes, one request each (default 8)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per route per round (default 4)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of floor, M1, M4 (default 5)")
    args = parser.parse_args()

    with bench_session("lego-bench-hit-", start_services):
        from django.core.management import call_command

        from lego_api.core.jwt_keys import mint_local_token
        from tools.devstack.cli import api_server
        from tools.devstack.network import free_port

        root = Path(os.environ["LOCAL_DIR"])
        call_command("collectstatic", "--noinput", verbosity=0)
        moc_id = seed()
        token = mint_local_token(CALLER, ttl=3600)
        port = free_port()
        server = api_server(port, args.workers, root / "server.log")
        server.start()
        try:
            routes = {
                "floor": ("/api/csrf", None),
                "cached M1": ("/api/mocs", b"X-Cache: HIT"),
                "cached M4": (f"/api/mocs/{moc_id}", b"X-Cache: HIT"),
            }
            for name, (path, expect) in routes.items():  # warm every worker: JWKS, connections, the entries
                raw = request_bytes(port, path, token)
                for _ in range(8 * args.workers):
                    answer = fetch(port, raw)
                head, _, body = answer.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200"), head
                assert expect is None or expect in head, (name, head)
                print(f"{name:<10} {path:<52} {len(body):>6} bytes")
            counts = dict.fromkeys(routes, 0)
            errors = dict.fromkeys(routes, 0)
            per_round: dict[str, list[int]] = {name: [] for name in routes}
            context = multiprocessing.get_context("spawn")
            with context.Pool(args.concurrency) as pool:
                pool.map(time.sleep, [0.01] * args.concurrency)  # started before the clock runs
                for _ in range(args.rounds):
                    for name, (path, expect) in routes.items():
                        start = time.time() + 0.2
                        task = (port, request_bytes(port, path, token), expect, start, start + args.seconds)
                        per_round[name].append(0)
                        for good, bad, sample in pool.map(drive, [task] * args.concurrency):
                            per_round[name][-1] += good
                            counts[name] += good
                            errors[name] += bad
                            if sample:
                                print(f"  error on {name}: {sample!r}")
            load = Path("/proc/loadavg").read_text().split()[:3]
        finally:
            server.stop()

    elapsed = args.seconds * args.rounds
    rps = {name: counts[name] / elapsed for name in routes}
    print()
    print(
        f"{args.workers} gunicorn workers, full stack, concurrency {args.concurrency}, "
        f"{args.rounds} x {args.seconds:g} s per route; loadavg {' '.join(load)} ({os.cpu_count()} cores)"
    )
    print(f"{'route':<12}{'RPS':>8}{'x floor':>9}{'median of rounds':>18}{'goal':>7}{'errors':>8}")
    for name in routes:
        ratio = rps[name] / rps["floor"] if rps["floor"] else 0.0
        # Each round's ratio to the floor of the same round: less sensitive to load that comes and goes.
        rounds = statistics.median(n / f for n, f in zip(per_round[name], per_round["floor"], strict=True) if f)
        goal = f"{GOALS[name]:.2f}" if name in GOALS else ""
        print(f"{name:<12}{rps[name]:>8.0f}{ratio:>9.2f}{rounds:>18.2f}{goal:>7}{errors[name]:>8}")


if __name__ == "__main__":
    main()
