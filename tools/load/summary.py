"""The report of a load run: `summary.md` (and `chart.svg`) in its folder, from what the run left there: Locust's
CSV stats, the per-request log of the locustfile (requests.csv), the plan, the faults' real times and the server's
JSON request log (server.log), or CloudWatch lines for a deployed stage. Also the run's verdict (exit code)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from tools.load import cost, prices
from tools.load.chart import write_chart
from tools.load.logs import CloudWatchRun, LoggedRequest, read_cloudwatch_file, read_request_log_file
from tools.load.plan import MAX_P95_MS, MAX_RATE_SHORTFALL, MAX_WARMUP_SECONDS, PACE, Plan, fault_windows
from tools.load.scenarios import SCENARIOS

# PRD goals (issue 12): 100 RPS sustained and 500 RPS spikes with under 0.5% errors, p95 under 500 ms, cold starts
# under 2 s at p99, and a cost report per million requests.
GOAL_SUSTAINED_RPS, GOAL_SPIKE_RPS, GOAL_ERROR_RATE, GOAL_P95_MS, GOAL_COLD_START_MS = 100, 500, 0.005, 500, 2000
RATE_TOLERANCE = 0.03  # a stage "holds" its rate when it achieves at least 97% of it (the first requests of a
# stage are spread over one pacing interval)
MONTHLY_AT_100_RPS = 100 * cost.MONTH_SECONDS
NOT_MEASURED = "n/a"


@dataclass
class RunInfo:
    mode: str
    target: str | None = None
    workers: int | None = None
    users: int = 0
    loadavg_before: str = ""
    loadavg_after: str = ""
    loadavg_peak: float | None = None
    traffic: float = 10_000_000
    cloudwatch_logs: Path | None = None


@dataclass(frozen=True)
class Sample:
    start: float
    name: str
    ms: float
    ok: bool
    status: int


@dataclass
class Window:
    label: str
    seconds: float
    samples: list[Sample]
    target_rate: float | None = None

    @property
    def count(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if not s.ok)

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float | None:
        return percentile([s.ms for s in self.samples], q)


@dataclass
class Verdict:
    exit_code: int
    reasons: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


def read_samples(path: Path) -> list[Sample]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [
            Sample(float(row["start"]), row["name"], float(row["ms"]), row["ok"] == "1", int(row["status"] or 0))
            for row in csv.DictReader(handle)
        ]


def read_locust_stats(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def windows_of(samples: list[Sample], started: float, spans: list[tuple[str, float, float, float | None]]) -> list:
    out = []
    for label, begin, end, rate in spans:
        inside = [s for s in samples if begin <= s.start - started < end]
        out.append(Window(label, end - begin, inside, rate))
    return out


def _ms(value: float | str | None) -> str:
    if value in (None, "", "N/A"):
        return NOT_MEASURED
    return f"{float(value):.0f}"


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


# --- sections ----------------------------------------------------------------------------------------------------


def _header(info: RunInfo, plan: Plan, started: float | None) -> list[str]:
    when = dt.datetime.fromtimestamp(started or 0, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if started else "?"
    if info.target:
        where = f"{info.target} (deployed stage; tokens of {info.users} Cognito test users)"
        limits = (
            "the stage's own limits (SPEC §2.4 defaults 100/900 s general, 10/3600 s upload per user): the pool must "
            "be large enough that no user reaches them"
        )
    else:
        where = (
            f"local: gunicorn with {info.workers} sync workers, the full stack (PostgreSQL, Redis, SeaweedFS S3, "
            f"OpenSearch emulator, moto), ENVIRONMENT=dev, DEBUG off; load generator on the same machine; "
            f"{info.users} token holders (seeded users, local issuer)"
        )
        limits = (
            "limiter on (RATE_LIMIT_ENABLED=true: every request still counts in Redis and gets its headers) with "
            "windows a run cannot fill (general 1000000/900 s, upload 100000/3600 s, auth 10000/900 s per user)"
        )
    stages = ", ".join(f"{s.label} {s.rate:g} RPS for {s.seconds:g} s" for s in plan.stages)
    if plan.name == "max":
        stages = (
            f"stairs of {plan.stages[1].rate - plan.stages[0].rate:g} RPS from {plan.stages[0].rate:g} "
            f"(up to {plan.stages[-1].rate:g}), {plan.stages[0].seconds:g} s each, stopping after the first that "
            f"does not hold (p95 < {MAX_P95_MS:g} ms, no errors, rate within {MAX_RATE_SHORTFALL:.0%}; the first "
            f"{MAX_WARMUP_SECONDS} s of a stair left out)"
        )
    peak = f", peak {info.loadavg_peak:.2f}" if info.loadavg_peak is not None else ""
    lines = [
        f"# Load test `{plan.name}`: {when}",
        "",
        f"- **Server:** {where}.",
        f"- **Plan:** {stages}. Constant throughput: rate / {PACE:g} virtual users, each starting one request every "
        "users / rate seconds (Locust's constant_throughput, interval per stage).",
        f"- **Rate limits:** {limits}.",
        f"- **Machine load (1/5/15 min):** before {info.loadavg_before}, after {info.loadavg_after}{peak}.",
    ]
    if plan.fallback_share and not info.target:
        lines.append(
            f"- **Search:** the search:down switch (SPEC §6.2) held on {plan.fallback_share:.0%} of the time, so "
            "that share of searches is answered by the PostgreSQL fallback; each search is named by the backend "
            "that answered (X-Search-Backend)."
        )
    return [*lines, ""]


def _goals(stages: list[Window], total: Window, aggregated: dict | None, cold: list[float], mix) -> list[tuple]:
    """(goal, measured, result) rows; result is pass, FAIL or a dash when not measured."""
    rows = []
    for label, goal_rate in (("sustained", GOAL_SUSTAINED_RPS), ("spike", GOAL_SPIKE_RPS)):
        stage = next((w for w in stages if w.label == label), None)
        title = f"{goal_rate} RPS {'sustained' if label == 'sustained' else 'spike'}, < 0.5% errors"
        if stage is None or not stage.count:
            rows.append((title, "not run", NOT_MEASURED))
            continue
        held = stage.rate >= goal_rate * (1 - RATE_TOLERANCE) and stage.error_rate < GOAL_ERROR_RATE
        measured = f"{stage.rate:.1f} RPS for {stage.seconds:g} s, {_pct(stage.error_rate)} errors"
        if (stage.target_rate or 0) < goal_rate:  # a short or gentle run: the goal was not asked of it
            rows.append((title, f"{measured} (target {stage.target_rate:g} RPS)", NOT_MEASURED))
            continue
        rows.append((title, measured, "pass" if held else "FAIL"))
    p95 = total.percentile(95)  # exact, from every request (Locust rounds its percentiles to two digits)
    if p95 is None and aggregated and aggregated.get("95%") not in (None, "", "N/A"):
        p95 = float(aggregated["95%"])
    rows.append(
        (
            "p95 < 500 ms",
            f"{_ms(p95)} ms (all requests)",
            NOT_MEASURED if p95 is None else "pass" if p95 < 500 else "FAIL",
        )
    )
    rows.append(("errors < 0.5% (whole run)", _pct(total.error_rate), "pass" if total.error_rate < 0.005 else "FAIL"))
    if cold:
        p99 = percentile(cold, 99)
        rows.append(
            (
                "cold starts < 2 s p99",
                f"{p99:.0f} ms p99 of {len(cold)} (init or restore)",
                "pass" if p99 < GOAL_COLD_START_MS else "FAIL",
            )
        )
    else:
        rows.append(("cold starts < 2 s p99", "not measured (TARGET runs with CloudWatch logs only)", NOT_MEASURED))
    rows.append(
        (
            "cost report per million requests",
            f"{_usd(mix.total)} per million (mix)" if mix else "no durations logged",
            "reported" if mix else "FAIL",
        )
    )
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _scenario_rows(stats: list[dict], logged: list[LoggedRequest]) -> list[list[str]]:
    """Locust's figures per scenario, and beside them the server's own time (`durationMs`): the difference is time
    spent waiting for a worker (and in the network and the load generator)."""
    by_name = {s.name: s for s in SCENARIOS.values()}
    server: dict[str | None, list[float]] = {}
    for request in logged:
        if request.scenario:
            server.setdefault(request.scenario, []).append(request.duration_ms)
            server.setdefault(None, []).append(request.duration_ms)
    rows = []
    for row in stats:
        name = row["Name"]
        scenario = by_name.get(name.split(" (")[0])
        own = server.get(scenario.code if scenario else None, []) if scenario or name == "Aggregated" else []
        rows.append(
            [
                name,
                f"{scenario.share:g}%" if scenario else "",
                row["Request Count"],
                row["Failure Count"],
                f"{float(row['Requests/s']):.1f}",
                _ms(row["50%"]),
                _ms(row["95%"]),
                _ms(row["99%"]),
                _ms(percentile(own, 50)),
                _ms(percentile(own, 95)),
            ]
        )
    return rows


def _window_rows(windows: list[Window]) -> list[list[str]]:
    return [
        [
            w.label,
            f"{w.target_rate:g}" if w.target_rate else "",
            f"{w.rate:.1f}",
            str(w.count),
            f"{w.errors} ({_pct(w.error_rate)})",
            _ms(w.percentile(50)),
            _ms(w.percentile(95)),
            _ms(w.percentile(99)),
        ]
        for w in windows
    ]


def _cost_section(
    logged: list[LoggedRequest], cloudwatch: CloudWatchRun, info: RunInfo, assumptions: cost.Assumptions
) -> tuple[list[str], cost.PerMillion | None]:
    """Per scenario and for the mix; from REPORT lines' billed durations when CloudWatch lines were given."""
    if cloudwatch:
        pairs = [(i.billed_ms, i.request.scenario if i.request else None) for i in cloudwatch.invocations]
        source = f"billed durations of {len(pairs):,} CloudWatch REPORT lines ({info.cloudwatch_logs})"
    else:
        pairs = [(cost.billed(r.duration_ms), r.scenario) for r in logged if r.scenario]
        source = (
            f"`durationMs` of {len(pairs):,} requests in the server's JSON request log (server.log), each rounded up "
            "to the millisecond as Lambda bills; measured on this machine, not on Lambda"
        )
    if not pairs:
        return ["## Cost per million requests", "", "No request durations were logged; no cost figures.", ""], None
    lines = ["## Cost per million requests", "", f"From the {source}; prices of {prices.PRICES_AS_OF} "]
    lines[-1] += f"({prices.REGION}, x86_64, list prices without free tier: tools/load/prices.py)."
    lines.append("")
    rows = []
    by_scenario: dict[str | None, list[int]] = {}
    for ms, scenario in pairs:
        by_scenario.setdefault(scenario, []).append(ms)
    for code, scenario in SCENARIOS.items():
        if code not in by_scenario:
            continue
        figures = cost.per_million(by_scenario[code], [code] * len(by_scenario[code]), assumptions)
        rows.append(_cost_row(scenario.name, figures))
    mix = cost.per_million([ms for ms, _ in pairs], [s for _, s in pairs], assumptions)
    rows.append(_cost_row("**mix of this run**", mix))
    header = ["Scenario", "Requests", "Mean billed ms", "Lambda duration", "Lambda requests", "API Gateway"]
    lines += _table([*header, "Worker tasks", "SnapStart restores", "Total"], rows)
    per_request_tasks = cost.tasks_per_request([s for _, s in pairs])
    months = [cost.monthly(mix, n, per_request_tasks, assumptions) for n in (info.traffic, MONTHLY_AT_100_RPS)]
    lines += [f"Monthly projection in this mix ({per_request_tasks:.3f} worker tasks per request):", ""]
    heads = [f"{info.traffic / 1e6:,.0f} M requests/month", "100 RPS around the clock (262.8 M/month)"]
    monthly_rows = [
        ["Requests (API Gateway, Lambda, worker tasks, restores)", *(_usd(m.per_request_traffic) for m in months)],
        ["Hourly sweeper (worker)", *(_usd(m.sweeper) for m in months)],
        [
            "Keep-warm" + (" (off on the SnapStart API stages)" if not assumptions.keep_warm else ""),
            *(_usd(m.keep_warm) for m in months),
        ],
        ["SnapStart snapshot cache", *(_usd(m.snapshot_cache) for m in months)],
        ["**Total**", *(f"**{_usd(m.total)}**" for m in months)],
        ["Worker invocations", *(f"{m.worker_invocations:,.0f}" for m in months)],
    ]
    lines += _table(["Item", *heads], monthly_rows)
    a = assumptions
    tasks = ", ".join(f"{name} {ms:g} ms" for name, ms in a.task_ms.items())
    lines += [
        "Assumptions:",
        f"- Memory {a.memory_mb} MB (zappa_settings.json `memory_size`) for the API and the worker; x86_64.",
        "- Lambda duration: "
        + (
            "Lambda's billed duration."
            if cloudwatch
            else "the Django pipeline's `durationMs`, "
            "rounded up per request; Zappa's handler (event to WSGI and back) is not in it, and this machine is not "
            "Lambda's 1.15 vCPU. Locally a write's duration includes its tasks (run inline: search indexing, image "
            "processing), which the worker column counts again: for writes an upper bound."
        ),
        "- API Gateway: a REST API (what Zappa creates), first price tier.",
        f"- Worker: one invocation per asynchronous task (SPEC §7.3): {tasks} (estimates); the sweeper hourly, "
        f"{a.sweeper_ms:g} ms each.",
        f'- Keep-warm: {"on" if a.keep_warm else "off"} (zappa_settings.json `keep_warm`; README "Keep-warm is off")'
        f"; were it on, Zappa's rate(4 minutes) is {a.keep_warm_per_month:,} invocations a month.",
        f"- SnapStart restores: {a.restores_per_million:g} per million requests (a new execution environment per "
        f"10,000 requests), each restoring {a.memory_mb} MB.",
        f"- SnapStart cache: the live version all month, plus {a.deploys_per_month} deploys a month x "
        f"{a.versions_per_deploy} published versions each with a snapshot, each cached "
        f"{a.superseded_snapshot_days():.1f} days after it is replaced (deactivated when not invoked for "
        f"{a.inactive_after_days:g} days, or deleted by num_retained_versions {a.retained_versions}).",
        "- Not included: data transfer, CloudWatch Logs ingestion, X-Ray, RDS/RDS Proxy, ElastiCache, OpenSearch, "
        "S3 and Cognito (fixed or per-GB costs of the data stack).",
        "",
    ]
    return lines, mix


def _cost_row(name: str, figures: cost.PerMillion) -> list[str]:
    return [
        name,
        f"{figures.requests:,}",
        f"{figures.billed_ms:.1f}",
        _usd(figures.lambda_duration),
        _usd(figures.lambda_requests),
        _usd(figures.api_gateway),
        _usd(figures.worker),
        _usd(figures.snapstart_restores),
        f"**{_usd(figures.total)}**",
    ]


def _max_section(stairs: list[Window], *, ceiling_reached: bool) -> tuple[list[str], float | None]:
    held = None
    rows = []
    for window in stairs:
        p95 = window.percentile(95)
        ok = (
            window.count > 0
            and p95 is not None
            and p95 < MAX_P95_MS
            and window.errors == 0
            and window.rate >= (window.target_rate or 0) * (1 - MAX_RATE_SHORTFALL)
        )
        if ok and (held is None or window.target_rate > held):
            held = window.target_rate
        rows.append(
            [
                window.label,
                f"{window.rate:.1f}",
                str(window.count),
                str(window.errors),
                _ms(window.percentile(50)),
                _ms(p95),
                _ms(window.percentile(99)),
                "holds" if ok else "does not hold",
            ]
        )
    lines = ["## Highest rate held", ""]
    goal = "goal 300 RPS on the 2-core machine, load generator included"
    lines.append(
        f"**{held:g} RPS** held with p95 < {MAX_P95_MS:g} ms and no errors ({goal})"
        + (
            "; the highest stair of the plan: the limit is above it."
            if stairs and held == stairs[-1].target_rate and ceiling_reached
            else "."
        )
        if held
        else "No stair held."
    )
    lines.append("")
    lines += _table(["Stair", "Achieved RPS", "Requests", "Errors", "p50", "p95", "p99", "Verdict"], rows)
    return lines, held


def _read_json(path: Path, default):
    return json.loads(path.read_text()) if path.exists() else default


def write_report(folder: Path, info: RunInfo, assumptions: cost.Assumptions | None = None) -> Verdict:
    """Write summary.md and chart.svg into the run's folder; return the verdict (exit code and why)."""
    folder = Path(folder)
    plan = Plan.load(folder / "plan.json")
    assumptions = assumptions or cost.Assumptions.from_zappa()
    samples = read_samples(folder / "requests.csv")
    started = None
    if (folder / "started.json").exists():
        started = _read_json(folder / "started.json", {})["epoch"]
    elif samples:
        started = min(s.start for s in samples)
    stats = read_locust_stats(folder / "locust_stats.csv")
    aggregated = next((row for row in stats if row["Name"] == "Aggregated"), None)
    logged = read_request_log_file(folder / "server.log")
    cloudwatch = read_cloudwatch_file(info.cloudwatch_logs) if info.cloudwatch_logs else CloudWatchRun()

    stage_windows = windows_of(samples, started or 0, list(plan.windows()))
    total = Window("whole run", plan.seconds, samples)
    lines = _header(info, plan, started)
    cost_lines, mix = _cost_section(logged, cloudwatch, info, assumptions)
    verdict = Verdict(0)

    if plan.name == "max":
        ran = [stage["label"] for stage in _read_json(folder / "stairs.json", [])]
        spans = [(label, begin + MAX_WARMUP_SECONDS, end, rate) for label, begin, end, rate in plan.windows()]
        stairs = [w for w in windows_of(samples, started or 0, spans) if w.label in ran]
        max_lines, held = _max_section(stairs, ceiling_reached=len(ran) == len(plan.stages))
        lines += max_lines
        if held is None:
            verdict = Verdict(1, ["no stair held"])
    else:
        goals = _goals(stage_windows, total, aggregated, cloudwatch.cold_starts_ms, mix)
        lines += ["## PRD goals", ""]
        lines += _table(["Goal", "Measured", "Result"], [list(row) for row in goals])
        if info.target:
            missed = [goal for goal, _, result in goals if result == "FAIL"]
            if missed:
                verdict = Verdict(1, [f"missed: {goal}" for goal in missed])
        lines += ["## Stages", ""]
        header = ["Stage", "Target RPS", "Achieved RPS", "Requests", "Errors", "p50 ms", "p95 ms", "p99 ms"]
        lines += _table(header, _window_rows([*stage_windows, total]))
    if plan.faults and started is not None:
        real = _read_json(folder / "faults.json", [])
        spans = []
        for label, begin, end in fault_windows(plan):
            spans.append((label, begin, end, None))
        if real:  # the times the services were really paused and resumed
            spans = [("before the faults", 0.0, real[0]["paused"] - started, None)]
            for fault in real:
                paused, resumed = fault["paused"] - started, fault["resumed"] - started
                spans.append((f"{fault['service']} paused", paused, resumed, None))
                spans.append((f"10 s after {fault['service']} resumed", resumed, resumed + 10, None))
        lines += ["## Faults", "", "Redis, then OpenSearch, frozen with SIGSTOP (Service.pause) and resumed:", ""]
        header = ["Window", "", "Achieved RPS", "Requests", "Errors", "p50 ms", "p95 ms", "p99 ms"]
        lines += _table(header, _window_rows(windows_of(samples, started, spans)))
        by_name: dict[str, int] = {}
        for sample in samples:
            if not sample.ok:
                key = f"{sample.name} ({sample.status or 'no response'})"
                by_name[key] = by_name.get(key, 0) + 1
        if by_name:
            lines += ["Failed requests: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_name.items())), ""]
    lines += ["## Scenarios", ""]
    lines += ["Locust's statistics (locust_stats.csv; ms), and the server's own time per request (`durationMs` in"]
    lines[-1] += " server.log; search: both backends):"
    lines.append("")
    header = ["Scenario", "Share", "Requests", "Failures", "RPS", "p50", "p95", "p99", "server p50", "server p95"]
    lines += _table(header, _scenario_rows(stats, [] if info.target else logged))
    lines += cost_lines
    lines += ["Files: report.html (Locust's report and charts), locust_stats.csv, locust_stats_history.csv, "]
    lines[-1] += "locust_failures.csv, requests.csv (every request), server.log (the server's JSON lines), chart.svg."
    lines.append("")
    failures = total.errors if samples else int(aggregated["Failure Count"]) if aggregated else 0
    if failures and plan.name != "max":
        verdict = Verdict(1, [f"{failures} failed requests", *verdict.reasons])
    if verdict.reasons:
        lines += ["**Exit status 1:** " + "; ".join(verdict.reasons) + ".", ""]
    (folder / "summary.md").write_text("\n".join(lines))
    write_chart(
        folder / "locust_stats_history.csv",
        folder / "chart.svg",
        title=f"make load ({plan.name}): Locust's figures each second (moving windows)",
    )
    return verdict


def save_info(folder: Path, info: RunInfo) -> None:
    """The run's description, so that the report can be written again later (with CloudWatch lines)."""
    fields = {**info.__dict__, "cloudwatch_logs": str(info.cloudwatch_logs) if info.cloudwatch_logs else None}
    (Path(folder) / "run.json").write_text(json.dumps(fields, indent=2))


def load_info(folder: Path) -> RunInfo:
    fields = _read_json(Path(folder) / "run.json", {"mode": "load"})
    if fields.get("cloudwatch_logs"):
        fields["cloudwatch_logs"] = Path(fields["cloudwatch_logs"])
    return RunInfo(**fields)


def main(argv: list[str] | None = None) -> int:
    """`python -m tools.load.summary FOLDER [--logs cloudwatch.txt]`: write a run's summary again, e.g. with the
    CloudWatch lines of a TARGET run exported after it (billed durations, cold starts)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.load.summary", description=main.__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--logs", type=Path, help="CloudWatch log lines of the run (START/REPORT and JSON lines)")
    args = parser.parse_args(argv)
    info = load_info(args.folder)
    if args.logs:
        info.cloudwatch_logs = args.logs
    verdict = write_report(args.folder, info)
    print((args.folder / "summary.md").read_text())
    return verdict.exit_code


if __name__ == "__main__":
    import sys

    sys.exit(main())
