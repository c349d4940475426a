"""Benchmark: parse_parts_list() on a 10,000-row CSV against a bare csv.reader pass (target: within 3x).

Run with `.venv/bin/python tests/perf/bench_parse.py`. Prints figures; it is not a timed test.
"""

from __future__ import annotations

import csv
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mocs.parsers import parse_parts_list

ROWS = 10_000
RUNS = 31
TARGET_RATIO = 3.0
COLORS = ["Red", "Black", "White", "Light Bluish Gray", "Dark Bluish Gray", "Reddish Brown", "Tan", "Blue"]
NAMES = [
    "Brick 2 x 4",
    "Plate 1 x 2",
    "Tile 1 x 1 Round",
    "Slope 45 2 x 1",
    'Technic Pin with "Friction"',
    "Plate, 2 x 2",
]


def build_csv(rows: int = ROWS) -> bytes:
    """A realistic standard export: quoted names (with commas and quotes), CRLF line ends."""
    rng = random.Random(42)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Part ID", "Part Name", "Quantity", "Color"])
    for _ in range(rows):
        part_id = str(rng.randint(3001, 99999)) + rng.choice(["", "b", "pr0001"])
        writer.writerow([part_id, rng.choice(NAMES), rng.randint(1, 250), rng.choice(COLORS)])
    return out.getvalue().encode("utf-8")


def bare_csv_reader(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def median_seconds(
    functions: dict[str, Callable[[bytes], object]], content: bytes, runs: int = RUNS
) -> dict[str, float]:
    """Median wall time of each function; the runs are interleaved so that machine noise hits every one alike."""
    timings: dict[str, list[float]] = {name: [] for name in functions}
    for function in functions.values():
        function(content)  # warm-up
    for _ in range(runs):
        for name, function in functions.items():
            start = time.perf_counter()
            function(content)
            timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> int:
    content = build_csv()
    result = parse_parts_list(content)
    assert result.ok and result.row_count == ROWS, result.error_details()

    medians = median_seconds({"baseline": bare_csv_reader, "parser": parse_parts_list}, content)
    baseline, parser = medians["baseline"], medians["parser"]
    ratio = parser / baseline
    print(f"{ROWS:,} rows, {len(content) / 1024:.0f} KiB, median of {RUNS} interleaved runs each")
    print(f"{'pass':<40} {'median ms':>10}")
    print(f"{'bare csv.reader (decode + list)':<40} {baseline * 1000:>10.2f}")
    print(f"{'parse_parts_list':<40} {parser * 1000:>10.2f}")
    print(
        f"{'ratio':<40} {ratio:>10.2f}x  (target <= {TARGET_RATIO:.0f}x: {'PASS' if ratio <= TARGET_RATIO else 'FAIL'})"
    )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
