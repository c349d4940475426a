"""Benchmark: G2 `GET /api/images` and G14 `GET /api/gallery` (pages of 20) for a user with 10,000 images (and 200
albums), cached (Redis HIT) against uncached (a MISS: the SQL, serialisation with signed URLs, the cache write),
through the whole Django stack (middleware, JWT verification, envelope) with Django's test Client.

Run with `.venv/bin/python tests/perf/bench_gallery_list.py [--runs 200]`. It starts its own services (embedded
PostgreSQL, Redis, and the rest of the full stack) in a temporary directory, migrates, bulk-creates the rows and
prints median / p95 per scenario. Prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_list import measure, p95, start_services  # noqa: E402
from tests.perf.services import bench_session  # noqa: E402

CALLER = "bench-caller"
CALLER_IMAGES = 10_000
CALLER_ALBUMS = 200
IN_ALBUMS = 0.4  # the share of the caller's images that are in an album (the feed shows the others)
OTHER_IMAGES = 10_000  # other users' rows in the same tables, so the user_id indexes have work to do
TAGS = ["castle", "space", "harbour", "vehicle", "modular", "train", "winter", "robot"]
WORDS = ["Harbour", "Castle", "Rocket", "Tram", "Lighthouse", "Bakery", "Station", "Bridge"]
PATHS = [
    "/api/images",
    "/api/images?page=250",
    "/api/images?tag=castle&flagged=false",
    "/api/gallery",
    "/api/gallery?cursor=5000",
    "/api/gallery?type=image&tag=castle",
    "/api/gallery?search=harbour",
]


def load_rows() -> float:
    """The caller's albums and images, other users' images, with their search vectors; seconds taken."""
    from django.db import connection
    from django.utils import timezone

    from gallery.keys import gallery_image_key, gallery_thumbnail_key
    from gallery.models import GalleryAlbum, GalleryImage
    from lego_api.core.search.vector import document_vector

    rng = random.Random(7)
    now = timezone.now()

    def moment() -> dt.datetime:
        return now - dt.timedelta(seconds=rng.random() * 3 * 365 * 86400)

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    albums = [
        GalleryAlbum(id=new_id(), user_id=CALLER, title=f"{rng.choice(WORDS)} album {n}", created_at=moment())
        for n in range(CALLER_ALBUMS)
    ]
    images = []
    for index in range(CALLER_IMAGES + OTHER_IMAGES):
        owner = CALLER if index < CALLER_IMAGES else f"user-{index % 500}"
        image_id, stamp = new_id(), moment()
        in_album = owner == CALLER and rng.random() < IN_ALBUMS
        images.append(
            GalleryImage(
                id=image_id,
                user_id=owner,
                title=f"{rng.choice(WORDS)} {index}",
                description="A benchmark photo with a description of ordinary length. " * 2,
                tags=rng.sample(TAGS, rng.randint(0, 3)),
                image_url=gallery_image_key(owner, image_id),
                thumbnail_url=gallery_thumbnail_key(owner, image_id),
                album_id=rng.choice(albums).id if in_album else None,
                flagged=rng.random() < 0.05,
                processing_status="ready",
                created_at=stamp,
                last_updated_at=stamp,
            )
        )
    began = time.perf_counter()
    GalleryAlbum.objects.bulk_create(albums)
    GalleryImage.objects.bulk_create(images, batch_size=2000)
    GalleryImage.objects.update(search_vector=document_vector())
    for album in albums[::2]:  # half the albums have a cover
        album.cover_image_id = rng.choice(images[:CALLER_IMAGES]).id
    GalleryAlbum.objects.bulk_update(albums, ["cover_image_id"])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE gallery_images")
        cursor.execute("VACUUM ANALYZE gallery_albums")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="requests per scenario (default 200)")
    args = parser.parse_args()

    with bench_session("lego-bench-gallery-list-", start_services):
        from django.test import Client

        from lego_api.core.cache import bump
        from lego_api.core.jwt_keys import mint_local_token

        seconds = load_rows()
        print(f"loaded {CALLER_IMAGES + OTHER_IMAGES:,} images ({CALLER_IMAGES:,} the caller's) in {seconds:.1f} s")

        client = Client(HTTP_AUTHORIZATION=f"Bearer {mint_local_token(CALLER)}")

        def request(path: str, expect: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, response.content[:300]
            assert response["X-Cache"] == expect, (path, response["X-Cache"])
            data = response.json()["data"]
            assert len(data["items"] if path.startswith("/api/gallery") else data) == 20, path

        def invalidate() -> None:
            bump("gallery", CALLER)  # outside a transaction the bump runs at once: the next GET is a MISS

        timings = measure(request, PATHS, args.runs, invalidate)
        print()
        print(f"G2 and G14, 20 items a page, {CALLER_IMAGES:,} images of the caller, {args.runs} requests each (ms)")
        print(f"{'request':<40}{'cache':>6}{'median':>9}{'p95':>9}{'min':>9}")
        for (path, state), values in timings.items():
            print(f"{path:<40}{state:>6}{statistics.median(values):>9.2f}{p95(values):>9.2f}{min(values):>9.2f}")


if __name__ == "__main__":
    main()
