"""An SVG chart of a load run from Locust's stats history (locust_stats_history.csv, the Aggregated rows, one a
second): requests per second on top, the current p50 and p95 response times below. No plotting library needed."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from xml.sax.saxutils import escape

WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP, GAP = 820, 170, 60, 20, 36, 46


def read_history(path: Path) -> list[dict]:
    """(seconds from the start, RPS, p50, p95, users) per second, from the Aggregated rows."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("Name") == "Aggregated"]
    if not rows:
        return []
    start = int(rows[0]["Timestamp"])

    def number(value: str) -> float | None:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    return [
        {
            "t": int(row["Timestamp"]) - start,
            "rps": number(row["Requests/s"]) or 0.0,
            "p50": number(row["50%"]),
            "p95": number(row["95%"]),
            "users": number(row["User Count"]) or 0.0,
        }
        for row in rows
    ]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _panel(points: dict[str, list[tuple[float, float]]], colours: dict[str, str], top: float, t_max: float, label: str):
    values = [y for series in points.values() for _, y in series]
    y_max = _nice_max(max(values, default=1.0))
    plot_width = WIDTH - LEFT - RIGHT
    out = [f'<text x="{LEFT}" y="{top - 8}" class="label">{escape(label)}</text>']
    for tick in range(5):
        y_value = y_max * tick / 4
        y = top + PANEL_HEIGHT - PANEL_HEIGHT * tick / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{y_value:g}</text>')
    for name, series in points.items():
        if not series:
            continue
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{LEFT + plot_width * t / t_max:.1f},{top + PANEL_HEIGHT * (1 - y / y_max):.1f}"
            for i, (t, y) in enumerate(series)
        )
        out.append(f'<path d="{path}" fill="none" stroke="{colours[name]}" stroke-width="1.6"/>')
    legend_x = WIDTH - RIGHT - 110 * len(points)
    for index, name in enumerate(points):
        x = legend_x + index * 110
        out.append(f'<rect x="{x}" y="{top - 18}" width="12" height="3" fill="{colours[name]}"/>')
        out.append(f'<text x="{x + 16}" y="{top - 13}" class="tick">{escape(name)}</text>')
    return out


def render(history: list[dict], *, title: str) -> str:
    t_max = max((row["t"] for row in history), default=1) or 1
    height = TOP + 2 * PANEL_HEIGHT + GAP + 40
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">',
        "<style>.label{font:600 13px sans-serif;fill:#222}.tick{font:11px sans-serif;fill:#555}"
        ".grid{stroke:#e3e3e3;stroke-width:1}</style>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{LEFT}" y="18" class="label">{escape(title)}</text>',
    ]
    rps = {"requests/s": [(r["t"], r["rps"]) for r in history]}
    body += _panel(rps, {"requests/s": "#1f6feb"}, TOP + 14, t_max, "Requests per second")
    latency = {
        "p50 ms": [(r["t"], r["p50"]) for r in history if r["p50"] is not None],
        "p95 ms": [(r["t"], r["p95"]) for r in history if r["p95"] is not None],
    }
    second_top = TOP + 14 + PANEL_HEIGHT + GAP
    body += _panel(latency, {"p50 ms": "#2da44e", "p95 ms": "#cf222e"}, second_top, t_max, "Response time (ms)")
    axis_y = second_top + PANEL_HEIGHT + 16
    for tick in range(0, int(t_max) + 1, max(10, int(t_max) // 8 // 10 * 10 or 10)):
        x = LEFT + (WIDTH - LEFT - RIGHT) * tick / t_max
        body.append(f'<text x="{x:.1f}" y="{axis_y}" class="tick" text-anchor="middle">{tick}s</text>')
    body.append("</svg>")
    return "\n".join(body) + "\n"


def write_chart(history_csv: Path, out: Path, *, title: str) -> bool:
    """Write the SVG; False (nothing written) when the history has no rows."""
    history = read_history(history_csv)
    if not history:
        return False
    out.write_text(render(history, title=title))
    return True
