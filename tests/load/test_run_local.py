"""`python -m tools.load load` end to end, briefly: its own full stack and gunicorn in a temporary directory, seeded,
Locust at a low rate with every scenario equally likely; the report folder is complete, no request failed and every
scenario was hit. Not a timed test: nothing here depends on how fast the machine is."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tools.load.scenarios import SCENARIOS

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_a_short_local_run_writes_a_complete_report(tmp_path):
    # A clean environment: the run starts its own services (the test session's would otherwise be reused).
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    reports = tmp_path / "reports"
    command = [
        sys.executable, "-m", "tools.load", "load", "--rate", "20", "--duration", "6", "--spike-duration", "0",
        "--users", "4", "--mocs", "6", "--workers", "2", "--equal-weights",
        "--root", str(tmp_path / "stack"), "--reports", str(reports),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    (folder,) = reports.iterdir()
    assert folder.name.endswith("-load")
    for name in ("report.html", "locust_stats.csv", "locust_stats_history.csv", "summary.md", "server.log"):
        assert (folder / name).stat().st_size > 0, name

    with (folder / "locust_stats.csv").open(newline="") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    assert rows["Aggregated"]["Failure Count"] == "0"
    for scenario in SCENARIOS.values():
        hit = sum(int(row["Request Count"]) for name, row in rows.items() if name.startswith(scenario.name))
        assert hit > 0, scenario.name

    summary = (folder / "summary.md").read_text()
    assert "| errors < 0.5% (whole run) | 0.00% | pass |" in summary
    assert "| **mix of this run** |" in summary
