"""Demo and load-test data (`manage.py seed_demo`): each app registers, in its AppConfig.ready(), a seeder that
bulk-creates rows for a list of users (and writes the objects those rows point at); core runs them in order and then
does what every app's rows need alike: the search indexes filled through the reindex path (`bulk_upsert`) and the
users' cache families bumped. Core imports no app; an app's seeder only sees a `SeedContext`.

Deterministic: every seeder draws from its own `random.Random` seeded from (`--seed`, seeder name), ids included
(`ctx.uuid()`), and timestamps are offsets from the start of the current UTC day, so one seed gives the same rows on
the same day and the same rows shifted by whole days later.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# How many objects are written to storage at once (S3 PUTs are network-bound; the file system does not mind).
STORAGE_WRITERS = 8


class SeedContext:
    """What a seeder is given: the users, the sizes per user, its own random source and a clock anchor."""

    def __init__(
        self, *, user_ids: list[str], sizes: dict[str, int], seed: int, anchor: dt.datetime, rng: random.Random
    ) -> None:
        self.user_ids = user_ids
        self.sizes = sizes  # per user: mocs, images, wishlist, albums, parts, files
        self.seed = seed
        self.anchor = anchor  # the start of the current UTC day: timestamps are offsets back from it
        self.rng = rng

    def uuid(self) -> uuid.UUID:
        """A version-4 UUID drawn from the seeder's random source (deterministic with the seed)."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self, *, within_days: int) -> dt.datetime:
        """A timestamp within the last `within_days` days before the anchor, to the millisecond."""
        return self.anchor - dt.timedelta(milliseconds=self.rng.randrange(within_days * 86_400_000))


class SeedResult:
    """What a seeder made: row counts by table (for the command's report) and the ids to index per search kind."""

    def __init__(
        self, *, counts: dict[str, int] | None = None, index: dict[str, list[str]] | None = None, objects: int = 0
    ) -> None:
        self.counts = counts or {}
        self.index = index or {}
        self.objects = objects


class Seeder:
    """An app's seeder. `seed(ctx)` bulk-creates the rows of `ctx.user_ids` (there are none: `clear` ran first)
    and returns a SeedResult; `clear(user_ids)` deletes those users' rows of this app; `present(user_ids)` is
    True when those users already have this app's rows (`--if-missing`); `indexed(user_ids)` gives the ids of their
    rows per search kind (to fill an index again without reseeding). `order`: lower runs first (a seeder that
    links to another app's rows runs after it). `families`: the cache families its rows belong to.

    Plain classes here, not dataclasses: this module is imported at every start (the apps register with it), and
    the seeders themselves are imported only by `seed_demo`."""

    def __init__(
        self,
        *,
        name: str,
        seed: Callable[[SeedContext], SeedResult],
        clear: Callable[[Sequence[str]], None],
        present: Callable[[Sequence[str]], bool],
        indexed: Callable[[Sequence[str]], dict[str, list[str]]] | None = None,
        order: int = 100,
        families: tuple[str, ...] = (),
    ) -> None:
        self.name, self.seed, self.clear, self.present, self.indexed = name, seed, clear, present, indexed
        self.order, self.families = order, families


def owners_present(model: Any, user_ids: Sequence[str]) -> bool:
    """A seeder's `present`: each of `user_ids` owns at least one row of `model` (by its `user_id` column)."""
    owners = model.objects.filter(user_id__in=user_ids).values("user_id").distinct().count()
    return owners == len(user_ids)


def owned_ids(kind: str, model: Any, user_ids: Sequence[str]) -> dict[str, list[str]]:
    """A seeder's `indexed`: the ids of the rows of `model` that `user_ids` own, for the search index `kind`."""
    return {kind: [str(pk) for pk in model.objects.filter(user_id__in=user_ids).values_list("pk", flat=True)]}


_seeder_paths: list[str] = []


def register_seeder(path: str) -> None:
    """Register an app's seeder by its dotted path (`mocs.seed.SEEDER`), imported only when seed_demo runs."""
    if path not in _seeder_paths:
        _seeder_paths.append(path)


def registered_seeders() -> list[Seeder]:
    """The seeders in the order they run (by `order`, then name); each name has one owner."""
    from django.utils.module_loading import import_string

    seeders: dict[str, Seeder] = {}
    for path in _seeder_paths:
        seeder = import_string(path)
        if seeders.setdefault(seeder.name, seeder) is not seeder:
            raise ImproperlyConfigured(f"Seeder {seeder.name!r} is registered twice ({path})")
    return sorted(seeders.values(), key=lambda s: (s.order, s.name))


def demo_user_ids(prefix: str, count: int) -> list[str]:
    """`demo-0001` ... : key-safe ids (SPEC §5.3), so the storage keys carry them as they are."""
    return [f"{prefix}{index:04d}" for index in range(1, count + 1)]


def day_anchor() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def context_for(seeder: Seeder, *, user_ids: list[str], sizes: dict[str, int], seed: int) -> SeedContext:
    """The seeder's context: its random source depends on the seed and its name only (not on the other seeders)."""
    return SeedContext(
        user_ids=user_ids,
        sizes=sizes,
        seed=seed,
        anchor=day_anchor(),
        rng=random.Random(f"{seed}:{seeder.name}"),  # noqa: S311 - demo data, reproducible
    )


def write_objects(objects: Iterable[tuple[str, bytes, str, str | None]]) -> int:
    """Write (key, data, content type, filename) objects to storage, a few at a time; returns how many."""
    from concurrent.futures import ThreadPoolExecutor

    from lego_api.core.storage import save_bytes

    items = list(objects)

    def write(item: tuple[str, bytes, str, str | None]) -> None:
        key, data, content_type, filename = item
        save_bytes(key, data, content_type=content_type, filename=filename)

    with ThreadPoolExecutor(max_workers=STORAGE_WRITERS, thread_name_prefix="seed-storage") as pool:
        list(pool.map(write, items))
    return len(items)


def _upsert_with_retries(search: Any, kind: str, ids: list[str], attempts: int = 4) -> tuple[int, list[dict]]:
    """`bulk_upsert`, again after a transport error (a busy server answering after the 2 s timeout): an upsert by
    id is idempotent."""
    from opensearchpy.exceptions import ConnectionError as TransportFailure

    for attempt in range(attempts):
        try:
            return search.bulk_upsert(kind, ids)
        except TransportFailure:  # ConnectionTimeout is one
            if attempt == attempts - 1:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def index_seeded(index: dict[str, list[str]], *, batch_size: int = 100) -> dict[str, int]:
    """Fill the search indexes with the seeded rows, through the reindex path (create the index if missing, then
    `bulk_upsert` in batches). Nothing when OpenSearch is not configured. Returns documents indexed per kind."""
    from lego_api.core import search

    done: dict[str, int] = {}
    if not search.search_enabled():
        return done
    for kind, ids in index.items():
        if kind not in search.registered() or not ids:
            continue
        search.ensure_index(kind)
        indexed = 0
        for start in range(0, len(ids), batch_size):
            count, errors = _upsert_with_retries(search, kind, ids[start : start + batch_size])
            if errors:
                raise RuntimeError(f"{len(errors)} {kind} documents were rejected: {errors[:1]}")
            indexed += count
        search.get_client().indices.refresh(index=search.index_name(kind))
        done[kind] = indexed
    return done


def bump_families(user_ids: Sequence[str], families: Iterable[str]) -> None:
    """Make every cached response of these users unreachable (their rows were replaced)."""
    from lego_api.core.cache import bump, registered_families

    wanted = [family for family in dict.fromkeys(families) if family in registered_families()]
    for user_id in user_ids:
        for family in wanted:
            bump(family, user_id)


def merge(results: Iterable[SeedResult]) -> SeedResult:
    total = SeedResult()
    for result in results:
        for table, count in result.counts.items():
            total.counts[table] = total.counts.get(table, 0) + count
        for kind, ids in result.index.items():
            total.index.setdefault(kind, []).extend(ids)
        total.objects += result.objects
    return total


def describe(counts: dict[str, Any]) -> str:
    return ", ".join(f"{count:,} {table}" for table, count in counts.items())


# A few brick colours for the demo pictures (RGB), and the picture itself: a base plate with a few bricks on it,
# encoded once per (size, colour, format) and reused (every object still has its own key).
BRICK_COLOURS = ((201, 26, 9), (0, 85, 191), (242, 205, 55), (35, 120, 65), (5, 19, 29), (160, 165, 169))


@functools.lru_cache(maxsize=128)
def demo_image(width: int, height: int, colour: int, image_format: str = "WEBP") -> bytes:
    """A small picture of bricks on a plate, as WEBP, JPEG or PNG bytes."""
    from PIL import Image, ImageDraw

    base = BRICK_COLOURS[colour % len(BRICK_COLOURS)]
    picture = Image.new("RGB", (width, height), (228, 228, 218))
    draw = ImageDraw.Draw(picture)
    step = max(8, width // 8)
    for index, x in enumerate(range(step // 2, width - step, step)):
        fill = BRICK_COLOURS[(colour + index) % len(BRICK_COLOURS)] if index % 2 else base
        top = height // 3 + (index % 3) * step // 3
        draw.rectangle((x, top, x + step - 4, top + step), fill=fill)
    out = io.BytesIO()
    picture.save(out, format=image_format, quality=80)
    return out.getvalue()


def demo_pdf(title: str) -> bytes:
    """A one-page PDF (enough for the upload checks: `%PDF-` at the start)."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")[:60]
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
