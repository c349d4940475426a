"""Benchmark: U1 `GET /api/users/me` p50, uncached (a MISS: identity, profile row, the four stats counters, cache
write) and cached (a Redis HIT), through the whole Django stack (middleware, JWT verification, envelope) with
Django's test Client, for a caller with 1,000 MOCs and 500 wishlist items among other users' rows.

Two identity sources: the profiles row only (COGNITO_USER_POOL_ID unset), and Cognito through moto's server on
loopback (AdminGetUser; moto answers in a few ms, real Cognito in tens of ms, so that MISS is a floor).

Run with `.venv/bin/python tests/perf/bench_profile.py [--runs 200]`. It starts its own PostgreSQL, Redis and moto
in a temporary directory, migrates, bulk-creates the rows and prints median / p95 per scenario. Prints figures; it
is not a timed test. About 20 s in all.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_list import measure, p95  # noqa: E402
from tests.perf.services import start_bench_services  # noqa: E402

CALLER = "bench-caller"
CALLER_MOCS = 1_000
CALLER_WISHES = 500
OTHER_ROWS = 20_000  # other users' MOCs and wishlist items, so the user_id indexes have work to do


def start_services(root: Path) -> list:
    return start_bench_services(
        root,
        full=True,
        only={"postgres", "redis", "cognito"},
        unset=("STORAGE_BUCKET", "OPENSEARCH_URL"),
        env={"RATE_LIMIT_ENABLED": "false", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"},
    )


def load_rows() -> float:
    from django.db import connection

    from mocs.models import Moc
    from wishlist.models import WishlistItem

    rng = random.Random(7)
    mocs, wishes = [], []
    for index in range(CALLER_MOCS + OTHER_ROWS):
        owner = CALLER if index < CALLER_MOCS else f"user-{index % 500}"
        mocs.append(
            Moc(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                user_id=owner,
                type="moc",
                title=f"Bench MOC {index}",
                author="Jane Builder",
                parts_count=rng.randint(50, 5000),
                theme="City",
                set_number=f"MOC-{index}",
                tags=[],
            )
        )
    for index in range(CALLER_WISHES + OTHER_ROWS):
        owner = CALLER if index < CALLER_WISHES else f"user-{index % 500}"
        wishes.append(WishlistItem(user_id=owner, title=f"Bench wish {index}", sort_order=index))
    began = time.perf_counter()
    Moc.objects.bulk_create(mocs, batch_size=2000)
    WishlistItem.objects.bulk_create(wishes, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE moc_instructions")
        cursor.execute("VACUUM ANALYZE wishlist_items")
    return time.perf_counter() - began


def cognito_pool() -> str:
    """A moto user pool that knows the caller (Username = sub)."""
    import boto3

    client = boto3.client(
        "cognito-idp", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    )
    pool_id = client.create_user_pool(PoolName="bench")["UserPool"]["Id"]
    client.admin_create_user(
        UserPoolId=pool_id,
        Username=CALLER,
        UserAttributes=[{"Name": "email", "Value": "bench@example.com"}, {"Name": "name", "Value": "Bench Caller"}],
        MessageAction="SUPPRESS",
    )
    return pool_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="requests per scenario (default 200)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="lego-bench-profile-"))
    started: list = []
    try:
        began = time.perf_counter()
        started = start_services(root)
        print(f"services started in {time.perf_counter() - began:.1f} s")

        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import override_settings, setup_test_environment

        from lego_api.core.cache import bump
        from lego_api.core.jwt_keys import mint_local_token

        setup_test_environment()
        call_command("migrate", verbosity=0)
        print(f"loaded {CALLER_MOCS + CALLER_WISHES + 2 * OTHER_ROWS:,} rows in {load_rows():.1f} s")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {mint_local_token(CALLER)}")
        sources = {"profiles row only": None, "Cognito (moto)": cognito_pool()}

        def request(source: str, expect: str) -> None:
            with override_settings(COGNITO_USER_POOL_ID=sources[source]):
                response = client.get("/api/users/me")
            assert response.status_code == 200, response.content[:300]
            assert response["X-Cache"] == expect, response["X-Cache"]
            assert response.json()["data"]["stats"]["mocs"] == CALLER_MOCS

        def invalidate() -> None:
            bump("profile", CALLER)  # outside a transaction the bump runs at once: the next GET is a MISS

        timings = measure(request, list(sources), args.runs, invalidate)
        print()
        print(f"GET /api/users/me, {CALLER_MOCS:,} MOCs and {CALLER_WISHES} wishlist items, {args.runs} requests (ms)")
        print(f"{'identity':<22}{'cache':>6}{'p50':>9}{'p95':>9}{'min':>9}")
        for (source, state), values in timings.items():
            print(f"{source:<22}{state:>6}{statistics.median(values):>9.2f}{p95(values):>9.2f}{min(values):>9.2f}")
    finally:
        from tools import devstack

        devstack.stop_all(started)  # before removing their data directory (also registered at exit)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
