"""Benchmark: M1 `GET /api/mocs` (a page of 20) for a user with 10,000 MOCs, cached (Redis HIT) against uncached
(a MISS: COUNT + page query + serialisation + cache write), through the whole Django stack (middleware, JWT
verification, envelope) with Django's test Client.

Run with `.venv/bin/python tests/perf/bench_list.py [--runs 200]`. It starts its own services (embedded
PostgreSQL, Redis, and the rest of the full stack) in a temporary directory, migrates, bulk-creates the rows and
prints median / p95 per scenario. Prints figures; it is not a timed test. About 30 s in all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.services import bench_session, start_bench_services  # noqa: E402

CALLER = "bench-caller"
CALLER_ROWS = 10_000
OTHER_ROWS = 10_000  # other users' rows in the same table, so the user_id index has work to do
THEMES = ["City", "Space", "Castle", "Technic", "Creator"]
TAGS = ["city", "space", "castle", "vehicle", "modular", "food", "robot", "ship", "winter", "train"]


def start_services(root: Path) -> list:
    """The full local stack; its variables are exported before Django reads the settings."""
    return start_bench_services(
        root, full=True, env={"RATE_LIMIT_ENABLED": "false", "OPENSEARCH_INDEX_PREFIX": "lego-bench"}
    )


def load_rows() -> float:
    from django.utils import timezone

    from mocs.models import Moc

    rng = random.Random(7)
    now = timezone.now()
    rows = []
    for index in range(CALLER_ROWS + OTHER_ROWS):
        owner = CALLER if index < CALLER_ROWS else f"user-{index % 500}"
        stamp = now - dt.timedelta(seconds=rng.random() * 3 * 365 * 86400)
        is_set = rng.random() < 0.3
        rows.append(
            Moc(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                user_id=owner,
                type="set" if is_set else "moc",
                title=f"Bench MOC {index}",
                description="A benchmark row with a description of ordinary length. " * 3,
                author=None if is_set else "Jane Builder",
                parts_count=None if is_set else rng.randint(50, 5000),
                theme=rng.choice(THEMES),
                uploaded_date=None if is_set else stamp,
                brand="LEGO" if is_set else None,
                set_number=str(rng.randint(10000, 99999)) if is_set else f"MOC-{index}",
                release_year=2020 if is_set else None,
                retired=False if is_set else None,
                tags=rng.sample(TAGS, rng.randint(0, 4)),
                created_at=stamp,
                updated_at=stamp,
            )
        )
    began = time.perf_counter()
    Moc.objects.bulk_create(rows, batch_size=2000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE moc_instructions")
    return time.perf_counter() - began


def measure(request: Callable[[str, str], object], paths: list[str], runs: int, invalidate: Callable[[], None]):
    """Per run and path: invalidate, then time a MISS and the HIT that follows it. Interleaving the scenarios
    spreads machine noise over all of them alike."""
    for path in paths:  # warm-up: connections, JWKS, the caller's profile
        invalidate()
        request(path, "MISS")
    timings: dict[tuple[str, str], list[float]] = {(p, s): [] for p in paths for s in ("MISS", "HIT")}
    for _ in range(runs):
        for path in paths:
            invalidate()
            for state in ("MISS", "HIT"):
                start = time.perf_counter()
                request(path, state)
                timings[(path, state)].append((time.perf_counter() - start) * 1000)
    return timings


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="requests per scenario (default 200)")
    args = parser.parse_args()

    with bench_session("lego-bench-list-", start_services):
        from django.test import Client

        from lego_api.core.cache import bump
        from lego_api.core.jwt_keys import mint_local_token

        print(f"loaded {CALLER_ROWS + OTHER_ROWS:,} rows ({CALLER_ROWS:,} the caller's) in {load_rows():.1f} s")

        client = Client(HTTP_AUTHORIZATION=f"Bearer {mint_local_token(CALLER)}")

        def request(path: str, expect: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, response.content[:300]
            assert response["X-Cache"] == expect, (path, response["X-Cache"])
            assert len(response.json()["data"]) == 20

        def invalidate() -> None:
            bump("mocs", CALLER)  # outside a transaction the bump runs at once: the next GET is a MISS

        paths = ["/api/mocs", "/api/mocs?page=250", "/api/mocs?type=set&tag=castle"]
        timings = measure(request, paths, args.runs, invalidate)
        print()
        print(f"GET /api/mocs, limit 20, {CALLER_ROWS:,} MOCs of the caller, {args.runs} requests each (ms)")
        print(f"{'query':<32}{'cache':>6}{'median':>9}{'p95':>9}{'min':>9}")
        for (path, state), values in timings.items():
            query = path.removeprefix("/api/mocs").lstrip("?") or "(page 1)"
            print(f"{query:<32}{state:>6}{statistics.median(values):>9.2f}{p95(values):>9.2f}{min(values):>9.2f}")
        for path in paths:
            ratio = statistics.median(timings[(path, "MISS")]) / statistics.median(timings[(path, "HIT")])
            print(f"speed-up of a hit, {path}: {ratio:.1f}x (median)")


if __name__ == "__main__":
    main()
