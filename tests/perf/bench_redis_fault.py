"""Benchmark: M4 `GET /api/mocs/{id}` while Redis is stalled (SIGSTOP, what a network partition looks like) beside
Redis stopped (connection refused), and how soon the owner reads their write after Redis resumes (SPEC §6.1
"Consistency under faults"; goals: paused p95 within 300 ms of stopped p95, read-your-write <= 5 s).

Run with `.venv/bin/python tests/perf/bench_redis_fault.py [--duration 60] [--rate 10]`. It starts its own
embedded PostgreSQL and Redis (valkey) in a temporary directory, migrates, and drives the whole Django stack
(middleware with the rate limiter on, JWT verification, the response cache, the envelope) with Django's test
Client at a fixed request rate, one request at a time as a Lambda process serves them. Prints figures; it is not a
timed test. About 3 x duration + 30 s in all.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.services import start_bench_services  # noqa: E402

OWNER = "bench-owner"
MOC = {
    "type": "moc",
    "title": "Before the stall",
    "author": "Jane",
    "partsCount": 1,
    "theme": "City",
    "setNumber": "M-1",
}


def start_services(root: Path) -> list:
    """PostgreSQL and Redis only (files on disk, no search); their variables exported before Django starts."""
    return start_bench_services(
        root,
        full=True,
        only=("postgres", "redis"),
        unset=("OPENSEARCH_URL", "STORAGE_BUCKET", "AWS_ENDPOINT_URL_S3"),
        env={
            # The limiter stays on (it is a Redis user too), with a limit this run never reaches.
            "RATE_LIMIT_ENABLED": "true",
            "RATE_LIMIT_GENERAL": "1000000/900",
            "LOG_LEVEL": "ERROR",  # one JSON line per request, or per breaker warning, would time the terminal
        },
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def paced(request: Callable[[], object], *, rate: float, seconds: float) -> list[float]:
    """`request()` at `rate` per second for `seconds` (open schedule: a slow request delays the next ones, as a
    single-threaded process would); returns each request's latency in ms."""
    latencies = []
    began = time.perf_counter()
    for index in range(round(rate * seconds)):
        delay = began + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        start = time.perf_counter()
        request()
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per latency scenario (default 60)")
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second (default 10)")
    parser.add_argument("--stall", type=float, default=10.0, help="seconds Redis stays paused around the write")
    parser.add_argument("--give-up", type=float, default=60.0, help="seconds to wait for recovery (default 60)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="lego-bench-redis-"))
    started: list = []
    try:
        began = time.perf_counter()
        started = start_services(root)
        redis = next(s for s in started if s.name == "redis")
        print(f"services started in {time.perf_counter() - began:.1f} s")

        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import setup_test_environment

        from lego_api.core.jwt_keys import mint_local_token
        from lego_api.core.redis_breaker import breaker

        setup_test_environment()
        call_command("migrate", verbosity=0)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {mint_local_token(OWNER)}")
        created = client.post("/api/mocs", MOC, content_type="application/json")
        assert created.status_code == 201, created.content[:300]
        url = f"/api/mocs/{created.json()['data']['id']}"

        def get_detail() -> tuple[str, str]:
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]
            return response["X-Cache"], response.json()["data"]["title"]

        scenarios: list[tuple[str, Callable[[], AbstractContextManager]]] = [
            ("Redis up (cache hits)", nullcontext),
            ("Redis paused (SIGSTOP)", redis.paused),
            ("Redis stopped", redis.stopped),
        ]
        results = {}
        for name, condition in scenarios:
            get_detail()  # warm: connections, JWKS, profile, the cached entry
            breaker.reset()
            with condition():
                latencies = paced(get_detail, rate=args.rate, seconds=args.duration)
            results[name] = (latencies, breaker.failures)
            time.sleep(1)  # let a restarted Redis settle before the next scenario

        print()
        print(f"M4 GET {url.split('/')[-1][:8]}..., {args.rate:g} requests/s for {args.duration:g} s each (ms)")
        print(f"{'scenario':<28}{'requests':>9}{'median':>9}{'p95':>9}{'p99':>9}{'max':>9}{'errors':>10}")
        for name, (values, failures) in results.items():
            figures = [statistics.median(values), percentile(values, 0.95), percentile(values, 0.99), max(values)]
            print(f"{name:<28}{len(values):>9}" + "".join(f"{v:>9.1f}" for v in figures) + f"{failures:>10}")
        paused_p95 = percentile(results["Redis paused (SIGSTOP)"][0], 0.95)
        stopped_p95 = percentile(results["Redis stopped"][0], 0.95)
        print(f"p95 paused - p95 stopped: {paused_p95 - stopped_p95:+.1f} ms (goal: within 300 ms)")
        print("('errors' = Redis calls that failed, timed out or refused: one per 5 s breaker window)")

        # Read-your-write: the owner's entry is cached; Redis stalls; the owner renames the MOC (the bump is lost
        # and owed in PostgreSQL); Redis resumes. From then on the owner reads at the same rate.
        breaker.reset()  # the stopped scenario's last failure may have opened it less than 5 s ago
        get_detail()
        assert get_detail() == ("HIT", MOC["title"])
        with redis.paused():
            renamed = client.patch(url, {"title": "After the stall"}, content_type="application/json")
            assert renamed.status_code == 200, renamed.content[:300]
            time.sleep(args.stall)
        resumed = time.perf_counter()
        first_new = first_new_hit = None
        stale_hits = 0
        while first_new_hit is None and time.perf_counter() - resumed < args.give_up:
            state, title = get_detail()
            elapsed = time.perf_counter() - resumed
            if title == "After the stall":
                first_new = elapsed if first_new is None else first_new
                if state == "HIT":
                    first_new_hit = elapsed
            else:
                stale_hits += 1
            time.sleep(1 / args.rate)
        print()
        print(f"After Redis resumes ({args.stall:g} s stall, write made during it), polling at {args.rate:g}/s:")
        print(f"  owner reads their write after: {_seconds(first_new)} (goal <= 5 s); stale reads: {stale_hits}")
        print(f"  cache serving again (HIT with the new title) after: {_seconds(first_new_hit)}")
    finally:
        from tools import devstack

        devstack.stop_all(started)  # before removing their data directory (also registered at exit)
        shutil.rmtree(root, ignore_errors=True)


def _seconds(value: float | None) -> str:
    return "never (gave up)" if value is None else f"{value:.2f} s"


if __name__ == "__main__":
    main()
