"""Benchmark: the wishlist routes through the whole Django stack (middleware, JWT verification, envelope) with
Django's test Client, for a caller with 5,000 items among other users' rows:

- W4 `POST /api/wishlist/reorder` with 1000 entries: milliseconds and database queries per request, with search
  indexing off (what the request itself costs; deployed, the re-index is a task) and with the re-index of the 1000
  documents run inline after commit, as `make run` and the tests run it;
- W1 `GET /api/wishlist` p50, uncached (a MISS: COUNT + page query + serialisation + cache write) and cached (HIT);
- W8 `POST /api/wishlist/{id}/image` with a photo-like JPEG of just under 5 MB (the kind's maximum): the request
  (checks, decode, resize to 800 px, WebP encode, S3 write, the replaced object's delete) and the image pipeline
  alone (`process_image`).

Run with `.venv/bin/python tests/perf/bench_wishlist.py [--runs 200] [--reorders 20] [--uploads 10]`. It starts its
own PostgreSQL, Redis, SeaweedFS and OpenSearch emulator in a temporary directory, migrates, bulk-creates the rows
and prints the figures. Prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_images import generate  # noqa: E402
from tests.perf.bench_list import measure, p95  # noqa: E402
from tests.perf.services import bench_session, start_bench_services  # noqa: E402

CALLER = "bench-caller"
CALLER_ITEMS = 5_000
OTHER_ITEMS = 20_000  # other users' rows in the same table, so the user_id indexes have work to do
REORDERED = 1_000
CATEGORIES = ["Modular", "Star Wars", "Technic", "Ideas", "City"]
MB = 1_048_576
IMAGE_MAX_BYTES = 5 * MB


def start_services(root: Path) -> list:
    return start_bench_services(
        root,
        full=True,
        only={"postgres", "redis", "s3", "opensearch"},
        env={"RATE_LIMIT_ENABLED": "false", "OPENSEARCH_INDEX_PREFIX": "lego-bench"},
    )


def load_rows() -> tuple[list[str], float]:
    """The caller's items (their ids, in sortOrder) and other users' rows; the seconds it took."""
    from django.db import connection
    from django.utils import timezone

    from wishlist.models import WishlistItem

    rng = random.Random(7)
    now = timezone.now()
    rows = [
        WishlistItem(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            user_id=CALLER if index < CALLER_ITEMS else f"user-{index % 500}",
            title=f"Bench wish {index}",
            description="A set I would like to build one day, with a description of ordinary length.",
            product_link="https://www.lego.com/en-us/product/10243",
            category=rng.choice(CATEGORIES),
            sort_order=index,
            created_at=now,
            updated_at=now,
        )
        for index in range(CALLER_ITEMS + OTHER_ITEMS)
    ]
    began = time.perf_counter()
    WishlistItem.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE wishlist_items")
    return [str(row.id) for row in rows[:CALLER_ITEMS]], time.perf_counter() - began


def jpeg_under(limit: int) -> bytes:
    """A photo-like 4000x3000 JPEG, at the highest quality that keeps it under `limit` bytes."""
    image = generate((4000, 3000), seed=11)
    best = b""
    low, high = 50, 100
    while low <= high:
        quality = (low + high) // 2
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= limit:
            best, low = buffer.getvalue(), quality + 1
        else:
            high = quality - 1
    return best


def summary(values: list[float]) -> str:
    return f"p50 {statistics.median(values):8.2f}  p95 {p95(values):8.2f}  min {min(values):8.2f}"


def bench_reorder(client, ids: list[str], runs: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    print()
    print(f"W4 POST /api/wishlist/reorder, {REORDERED:,} entries, {runs} requests (ms)")
    for label, engine in (("search indexing off", None), ("re-index inline", "keep")):
        timings, queries = [], []
        overrides = {} if engine else {"OPENSEARCH_URL": None}
        with override_settings(**overrides):
            for run in range(runs + 1):
                chosen = ids[:REORDERED]
                orders = list(range(REORDERED))
                random.Random(run).shuffle(orders)
                body = {
                    "items": [
                        {"id": item_id, "sortOrder": order} for item_id, order in zip(chosen, orders, strict=True)
                    ]
                }
                with CaptureQueriesContext(connection) as captured:
                    start = time.perf_counter()
                    response = client.post("/api/wishlist/reorder", body, content_type="application/json")
                    elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, response.content[:300]
                if run:  # the first is a warm-up
                    timings.append(elapsed)
                    queries.append(len(captured.captured_queries))
        print(f"{label:<22}{summary(timings)}   queries {min(queries)}-{max(queries)}")


def bench_list(client, runs: int) -> None:
    from lego_api.core.cache import bump

    def request(path: str, expect: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, response.content[:300]
        assert response["X-Cache"] == expect, (path, response["X-Cache"])

    def invalidate() -> None:
        bump("wishlist", CALLER)  # outside a transaction the bump runs at once: the next GET is a MISS

    paths = ["/api/wishlist", "/api/wishlist?page=250", "/api/wishlist?category=Technic"]
    timings = measure(request, paths, runs, invalidate)
    print()
    print(f"W1 GET /api/wishlist, limit 20, {CALLER_ITEMS:,} items of the caller, {runs} requests each (ms)")
    for (path, state), values in timings.items():
        query = path.removeprefix("/api/wishlist").lstrip("?") or "(page 1)"
        print(f"{query:<22}{state:>6}  {summary(values)}")


def bench_image(client, item_id: str, uploads: int) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from lego_api.core.images import process_image

    content = jpeg_under(IMAGE_MAX_BYTES)
    requests, pipeline = [], []
    for run in range(uploads + 1):
        part = SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
        start = time.perf_counter()
        response = client.post(f"/api/wishlist/{item_id}/image", {"image": part})
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.content[:300]
        start = time.perf_counter()
        processed = process_image(io.BytesIO(content), max_width=800)
        if run:
            requests.append(elapsed)
            pipeline.append((time.perf_counter() - start) * 1000)
    print()
    print(
        f"W8 POST /api/wishlist/{{id}}/image, a 4000x3000 JPEG of {len(content) / MB:.2f} MB "
        f"-> {processed.width}x{processed.height} WebP of {len(processed.data) / 1024:.0f} KB, {uploads} uploads (ms)"
    )
    print(f"{'request':<22}{summary(requests)}")
    print(f"{'process_image alone':<22}{summary(pipeline)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="W1 requests per scenario (default 200)")
    parser.add_argument("--reorders", type=int, default=20, help="W4 requests per scenario (default 20)")
    parser.add_argument("--uploads", type=int, default=10, help="W8 requests (default 10)")
    args = parser.parse_args()

    with bench_session("lego-bench-wishlist-", start_services):
        from django.test import Client

        from lego_api.core.jwt_keys import mint_local_token

        ids, seconds = load_rows()
        print(f"loaded {CALLER_ITEMS + OTHER_ITEMS:,} rows ({CALLER_ITEMS:,} the caller's) in {seconds:.1f} s")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {mint_local_token(CALLER)}")
        bench_list(client, args.runs)
        bench_reorder(client, ids, args.reorders)
        bench_image(client, ids[0], args.uploads)


if __name__ == "__main__":
    main()
