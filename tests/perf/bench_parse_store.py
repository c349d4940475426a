"""Benchmark: a 10,000-row parts list, parsed (against a bare csv.reader pass) and stored in real PostgreSQL
(`parts_list_store_parsed`: one COPY of the parts, the counts, the MOC total). Goal: parse + store under 1 s.

Run with `.venv/bin/python tests/perf/bench_parse_store.py [--runs 15]`. It starts an embedded PostgreSQL in a
temporary directory (`devstack.start_stack(full=False)`), migrates, and prints a table of medians. For comparison it
also times the same insert through `bulk_create`. Prints figures; it is not a timed test. About 20 s in all.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_parse import ROWS, bare_csv_reader, build_csv, median_seconds  # noqa: E402
from tests.perf.bench_parse import RUNS as PARSE_RUNS  # noqa: E402
from tests.perf.services import start_bench_services  # noqa: E402

GOAL_SECONDS = 1.0


def start_postgres(root: Path) -> list:
    """Embedded PostgreSQL only; its variables are exported before Django reads the settings."""
    return start_bench_services(root, full=False)


def timed(function: Callable[[], object], *, runs: int, setup: Callable[[], object] | None = None) -> list[float]:
    """Wall times of `function`, each after an untimed `setup`."""
    times = []
    for _ in range(runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per database pass (default 15)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="lego-bench-parse-store-"))
    services = []
    try:
        services = start_postgres(root)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return run(args.runs)
    finally:
        from tools import devstack

        devstack.stop_all(services)
        shutil.rmtree(root, ignore_errors=True)


def run(runs: int) -> int:
    from django.db import connection, transaction

    from mocs.models import MocPart, MocPartsList
    from mocs.parsers import parse_parts_list
    from mocs.services.parts_lists import parts_list_store_parsed
    from tests.factories import MocFactory

    content = build_csv()
    result = parse_parts_list(content)
    assert result.ok and result.row_count == ROWS, result.error_details()

    parse_medians = median_seconds({"baseline": bare_csv_reader, "parser": parse_parts_list}, content)

    state: dict[str, object] = {}

    def fresh_moc() -> None:
        # Each run stores into its own MOC; earlier runs' rows are removed first, so the table stays the same size.
        MocPartsList.objects.all().delete()
        state["moc"] = MocFactory(user_id="bench", title=f"Bench {time.perf_counter_ns()}")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE moc_parts")

    def store() -> None:
        with transaction.atomic():
            parts_list_store_parsed(moc=state["moc"], result=result, file=None, title="Bench")

    def parse_and_store() -> None:
        parsed = parse_parts_list(content)
        with transaction.atomic():
            parts_list_store_parsed(moc=state["moc"], result=parsed, file=None, title="Bench")

    def bulk_create() -> None:
        with transaction.atomic():
            parts_list = MocPartsList.objects.create(moc=state["moc"], title="Bench")
            MocPart.objects.bulk_create(
                (
                    MocPart(
                        parts_list=parts_list,
                        part_id=part.part_id,
                        part_name=part.part_name,
                        color=part.color,
                        quantity=part.quantity,
                        category=part.category,
                        is_spare=part.is_spare,
                        line_number=part.line_number,
                    )
                    for part in result.parts
                ),
                batch_size=2000,
            )

    # One warm-up each (connection, statement planning), then the interleaving does not matter much: each pass
    # is dominated by the database round trips.
    for function in (store, bulk_create):
        fresh_moc()
        function()
    figures = {
        "store (COPY, counts, MOC total)": timed(store, runs=runs, setup=fresh_moc),
        "parse + store": timed(parse_and_store, runs=runs, setup=fresh_moc),
        "bulk_create(batch_size=2000), for comparison": timed(bulk_create, runs=runs, setup=fresh_moc),
    }
    stored = MocPart.objects.count()
    assert stored == ROWS, stored
    MocPartsList.objects.all().delete()

    print(f"{ROWS:,} rows, {len(content) / 1024:.0f} KiB CSV; PostgreSQL {connection.pg_version // 10000} (embedded)")
    print(f"{'pass':<48} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    print(f"{'bare csv.reader (decode + list)':<48} {parse_medians['baseline'] * 1000:>10.1f}")
    print(f"{'parse_parts_list':<48} {parse_medians['parser'] * 1000:>10.1f}")
    for name, times in figures.items():
        print(
            f"{name:<48} {statistics.median(times) * 1000:>10.1f} {min(times) * 1000:>8.1f} {max(times) * 1000:>8.1f}"
        )
    ratio = parse_medians["parser"] / parse_medians["baseline"]
    total = statistics.median(figures["parse + store"])
    print(f"parse / bare csv.reader: {ratio:.2f}x (median of {PARSE_RUNS} interleaved runs)")
    verdict = "PASS" if total < GOAL_SECONDS else "FAIL"
    print(f"parse + store median: {total * 1000:.0f} ms (goal < {GOAL_SECONDS * 1000:.0f} ms: {verdict})")
    return 0 if total < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
