"""The load test's report (tools/load): the cost arithmetic and the summary builder, fed the output of real runs
recorded in tests/load/recorded/: `load` (`python -m tools.load load --rate 20 --duration 20 --spike-rate 40
--spike-duration 6 --users 10`: Locust's CSVs, the locustfile's per-request log and gunicorn's JSON request log),
`fault` (`fault --rate 30 --users 10`) and `max` (`max --max-start 20 --max-step 20 --max-ceiling 60 --users 10
--workers 2`)."""

from __future__ import annotations

import csv
import gzip
import json
import math
import shutil
from pathlib import Path

import pytest

from tools.load import cost, prices
from tools.load.chart import read_history
from tools.load.logs import read_cloudwatch, read_request_log_file
from tools.load.plan import Fault, Plan, Stage, fault_plan, fault_windows, load_plan, max_plan
from tools.load.scenarios import SCENARIOS, request_id, scenario_of
from tools.load.summary import RunInfo, percentile, read_samples, write_report

RECORDED = Path(__file__).with_name("recorded")


def unpack(name: str, into: Path) -> Path:
    """A recorded run's folder (tests/load/recorded/NAME), unpacked into `into`."""
    folder = into / name
    folder.mkdir()
    for packed in (RECORDED / name).glob("*.gz"):
        (folder / packed.stem).write_bytes(gzip.decompress(packed.read_bytes()))
    return folder


@pytest.fixture
def run(tmp_path) -> Path:
    """The recorded `load` run."""
    return unpack("load", tmp_path)


def locust_rows(folder: Path) -> dict[str, dict]:
    with (folder / "locust_stats.csv").open(newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


# --- logs and scenarios ------------------------------------------------------------------------------------------


def test_request_ids_name_their_scenario():
    for code in SCENARIOS:
        value = request_id(code)
        assert 8 <= len(value) <= 64
        assert scenario_of(value) == code
    assert scenario_of("3c9e1f0a-7b2d-4e5f-8a6b-1c2d3e4f5a6b") is None


def test_the_server_log_splits_into_the_scenarios_locust_counted(run):
    logged = read_request_log_file(run / "server.log")
    counted = locust_rows(run)
    per_scenario: dict[str, int] = {}
    for request in logged:
        if request.scenario:
            per_scenario[request.scenario] = per_scenario.get(request.scenario, 0) + 1
    for code, scenario in SCENARIOS.items():
        locust_count = sum(int(row["Request Count"]) for name, row in counted.items() if name.startswith(scenario.name))
        assert per_scenario.get(code, 0) == locust_count, code
    # the setup reads before the run (not in Locust's stats) carry no scenario
    assert len(logged) - sum(per_scenario.values()) == 2 * 10


def test_cloudwatch_report_lines_are_matched_to_their_request(run):
    """CloudWatch lines in Lambda's documented shapes around two of the recorded JSON request lines."""
    json_lines = [line.strip() for line in (run / "server.log").open() if '"durationMs"' in line]
    first, second = json_lines[30], json_lines[31]
    lines = [
        "START RequestId: 8f5e2d1c-0000-4000-8000-000000000001 Version: 12",
        first,
        "END RequestId: 8f5e2d1c-0000-4000-8000-000000000001",
        "REPORT RequestId: 8f5e2d1c-0000-4000-8000-000000000001\tDuration: 41.17 ms\tBilled Duration: 42 ms\t"
        "Memory Size: 2048 MB\tMax Memory Used: 141 MB\tRestore Duration: 212.48 ms\tBilled Restore Duration: 98 ms",
        "START RequestId: 8f5e2d1c-0000-4000-8000-000000000002 Version: $LATEST",
        f"2026-12-07T11:43:38.916Z\t8f5e2d1c-0000-4000-8000-000000000002\t{second}",
        "REPORT RequestId: 8f5e2d1c-0000-4000-8000-000000000002\tDuration: 9.02 ms\tBilled Duration: 10 ms\t"
        "Memory Size: 2048 MB\tMax Memory Used: 140 MB\tInit Duration: 1532.10 ms",
    ]
    cloudwatch = read_cloudwatch(lines)
    assert [i.billed_ms for i in cloudwatch.invocations] == [42, 10]
    assert cloudwatch.cold_starts_ms == [212.48, 1532.10]
    assert cloudwatch.invocations[0].request.request_id == json.loads(first)["requestId"]
    assert cloudwatch.invocations[1].request.request_id == json.loads(second)["requestId"]


# --- cost arithmetic ---------------------------------------------------------------------------------------------


def test_billed_duration_rounds_up_to_the_millisecond():
    assert [cost.billed(ms) for ms in (0.2, 1.0, 1.01, 17.5)] == [1, 1, 2, 18]


def test_cost_per_million_of_the_recorded_requests(run):
    logged = [r for r in read_request_log_file(run / "server.log") if r.scenario]
    assumptions = cost.Assumptions()
    billed = [cost.billed(r.duration_ms) for r in logged]
    mix = cost.per_million(billed, [r.scenario for r in logged], assumptions)

    gb_ms = assumptions.memory_mb / 1024 / 1000
    assert mix.requests == len(logged)
    assert mix.billed_ms == pytest.approx(sum(billed) / len(billed))
    assert mix.lambda_duration == pytest.approx(mix.billed_ms * gb_ms * prices.LAMBDA_GB_SECOND * 1e6)
    assert mix.lambda_requests == prices.LAMBDA_PER_MILLION_REQUESTS
    assert mix.api_gateway == prices.APIGW_REST_PER_MILLION
    assert mix.snapstart_restores == pytest.approx(100 * 2 * prices.SNAPSTART_RESTORE_PER_GB)
    parts = [mix.lambda_duration, mix.lambda_requests, mix.api_gateway, mix.worker, mix.snapstart_restores]
    assert mix.total == pytest.approx(sum(parts))

    # the mix's worker cost is the request-weighted mean of the scenarios' own
    per_scenario = {}
    for code in {r.scenario for r in logged}:
        mine = [b for b, r in zip(billed, logged, strict=True) if r.scenario == code]
        per_scenario[code] = (len(mine), cost.per_million(mine, [code] * len(mine), assumptions))
    weighted = sum(n * figures.worker for n, figures in per_scenario.values()) / len(logged)
    assert mix.worker == pytest.approx(weighted)
    assert per_scenario["list"][1].worker == 0  # a read starts no task
    search_index = prices.LAMBDA_PER_MILLION_REQUESTS + 0.060 * 2 * prices.LAMBDA_GB_SECOND * 1e6
    assert per_scenario["create"][1].worker == pytest.approx(search_index)
    image = search_index + prices.LAMBDA_PER_MILLION_REQUESTS + 1.2 * 2 * prices.LAMBDA_GB_SECOND * 1e6
    assert per_scenario["image-upload"][1].worker == pytest.approx(image)


def test_monthly_projection_parts():
    mix = cost.PerMillion(1000, 20.0, 0.67, 0.20, 3.50, 0.30, 0.03)
    a = cost.Assumptions()
    month = cost.monthly(mix, 10_000_000, 0.1, a)
    assert month.per_request_traffic == pytest.approx(mix.total * 10)
    assert month.keep_warm == 0  # off on the SnapStart stages
    assert month.worker_invocations == 10_000_000 * 0.1 + 730
    assert month.sweeper == pytest.approx(730 * (0.2e-6 + 2.0 * 2 * prices.LAMBDA_GB_SECOND))
    # the live snapshot all month, plus 8 deploys x 2 versions each cached 14 days after being replaced
    cached = (730 * 3600 + 8 * 2 * 14 * 86400) * 2
    assert month.snapshot_cache == pytest.approx(cached * prices.SNAPSTART_CACHE_GB_SECOND)
    assert month.total == pytest.approx(month.per_request_traffic + month.sweeper + month.snapshot_cache)

    frequent = cost.Assumptions(deploys_per_month=20)  # 10 retained versions = 5 deploys = 7.6 days
    assert frequent.superseded_snapshot_days() == pytest.approx(5 * 30.4 / 20)
    warm = cost.monthly(mix, 10_000_000, 0.1, cost.Assumptions(keep_warm=True))
    assert warm.keep_warm == pytest.approx(10_950 * (0.2e-6 + 0.005 * 2 * prices.LAMBDA_GB_SECOND))


def test_assumptions_follow_zappa_settings():
    api = cost.Assumptions.from_zappa("dev")
    assert (api.memory_mb, api.keep_warm, api.snapstart) == (2048, False, True)
    assert cost.Assumptions.from_zappa("dev-worker").snapstart is False


# --- plans -------------------------------------------------------------------------------------------------------


def test_plans():
    load = load_plan(100, 60, 500, 20, fallback_share=0.25)
    assert [(s.label, s.rate, s.seconds, s.users) for s in load.stages] == [
        ("sustained", 100, 60, 50),
        ("spike", 500, 20, 250),
    ]
    assert load.stage_at(59.9).label == "sustained"
    assert load.stage_at(60).label == "spike"
    assert load.stage_at(80) is None
    assert [s.label for s in load_plan(100, 60, 500, 0, fallback_share=0).stages] == ["sustained"]

    fault = fault_plan(100)
    assert fault.faults == [Fault("redis", 10, 10), Fault("opensearch", 40, 10)]
    assert fault.seconds == 70
    assert fault_windows(fault) == [
        ("before the faults", 0.0, 10),
        ("redis paused", 10, 20),
        ("10 s after redis resumed", 20, 30),
        ("opensearch paused", 40, 50),
        ("10 s after opensearch resumed", 50, 60),
    ]
    stairs = max_plan(start=100, step=50, ceiling=300)
    assert [s.rate for s in stairs.stages] == [100, 150, 200, 250, 300]
    assert stairs.stop_on_failed_stair


def test_plan_round_trips_through_its_file(tmp_path):
    plan = Plan("fault", [Stage("fault run", 50, 30)], faults=[Fault("redis", 5, 10)])
    plan.save(tmp_path / "plan.json")
    assert Plan.load(tmp_path / "plan.json") == plan


# --- the summary -------------------------------------------------------------------------------------------------


def test_summary_of_the_recorded_run(run):
    verdict = write_report(run, RunInfo(mode="load", workers=4, users=10, loadavg_before="1.0", loadavg_after="2.0"))
    summary = (run / "summary.md").read_text()
    assert verdict.exit_code == 0  # no request failed

    # every scenario's Locust figures are in the table
    for name, row in locust_rows(run).items():
        line = next(line for line in summary.splitlines() if line.startswith(f"| {name} |"))
        assert f"| {row['Request Count']} | {row['Failure Count']} |" in line

    # beside them, the server's own time for the scenario, from its request log
    detail = [r.duration_ms for r in read_request_log_file(run / "server.log") if r.scenario == "detail"]
    line = next(line for line in summary.splitlines() if line.startswith("| M4 detail |"))
    assert line.endswith(f"| {percentile(detail, 50):.0f} | {percentile(detail, 95):.0f} |")

    # the stages are cut from the per-request log by the plan's windows
    samples = read_samples(run / "requests.csv")
    started = json.loads((run / "started.json").read_text())["epoch"]
    sustained = [s for s in samples if 0 <= s.start - started < 20]
    spike = [s for s in samples if 20 <= s.start - started < 26]
    p95 = percentile([s.ms for s in sustained], 95)
    assert f"| sustained | 20 | {len(sustained) / 20:.1f} | {len(sustained)} | 0 (0.00%) |" in summary
    assert f"| {p95:.0f} |" in next(line for line in summary.splitlines() if line.startswith("| sustained |"))
    assert f"| spike | 40 | {len(spike) / 6:.1f} | {len(spike)} |" in summary

    # the PRD goals: rates not asked of this gentle run are not judged; p95 and errors are
    assert "| 100 RPS sustained, < 0.5% errors |" in summary
    assert "(target 20 RPS) | n/a |" in summary
    assert "| cold starts < 2 s p99 | not measured" in summary
    assert "| errors < 0.5% (whole run) | 0.00% | pass |" in summary

    # the cost table: one row per scenario, and the mix, from the server's log
    logged = [r for r in read_request_log_file(run / "server.log") if r.scenario]
    mix = cost.per_million(
        [cost.billed(r.duration_ms) for r in logged], [r.scenario for r in logged], cost.Assumptions()
    )
    assert f"| **mix of this run** | {len(logged):,} | {mix.billed_ms:.1f} |" in summary
    assert f"**${mix.total:,.2f}**" in summary
    assert "Keep-warm (off on the SnapStart API stages) | $0.00 | $0.00 |" in summary
    assert prices.PRICES_AS_OF in summary

    chart = (run / "chart.svg").read_text()
    assert chart.startswith("<svg") and chart.count("<path") == 3  # requests/s, p50, p95
    assert len(read_history(run / "locust_stats_history.csv")) >= 20


def test_a_failed_request_fails_a_local_run(run):
    rows = (run / "requests.csv").read_text().splitlines()
    fields = rows[5].split(",")
    fields[3], fields[4] = "0", "500"
    rows[5] = ",".join(fields)
    (run / "requests.csv").write_text("\n".join(rows) + "\n")
    verdict = write_report(run, RunInfo(mode="load", workers=4, users=10))
    assert verdict.exit_code == 1
    assert verdict.reasons == ["1 failed requests"]
    assert "| errors < 0.5% (whole run) | 0.16% | pass |" in (run / "summary.md").read_text()


def test_a_target_run_fails_on_a_missed_goal(run):
    """The same recording as a TARGET run at 100 RPS: it achieved 20, so the sustained goal is missed."""
    plan = json.loads((run / "plan.json").read_text())
    plan["stages"][0]["rate"] = 100
    (run / "plan.json").write_text(json.dumps(plan))
    verdict = write_report(run, RunInfo(mode="load", target="https://api.example", users=10))
    assert verdict.exit_code == 1
    assert verdict.reasons == ["missed: 100 RPS sustained, < 0.5% errors"]
    assert "**Exit status 1:**" in (run / "summary.md").read_text()


def test_a_target_run_bills_from_cloudwatch(run, tmp_path):
    json_lines = [line.strip() for line in (run / "server.log").open() if '"durationMs"' in line][:50]
    lines = []
    for index, line in enumerate(json_lines):
        aws_id = f"8f5e2d1c-0000-4000-8000-{index:012d}"
        billed = math.ceil(json.loads(line)["durationMs"]) + 3
        lines += [
            f"START RequestId: {aws_id} Version: 7",
            line,
            f"REPORT RequestId: {aws_id}\tDuration: {billed - 0.5} ms\tBilled Duration: {billed} ms\t"
            "Memory Size: 2048 MB\tMax Memory Used: 140 MB" + ("\tInit Duration: 1800.00 ms" if index == 0 else ""),
        ]
    logs = tmp_path / "cloudwatch.txt"
    logs.write_text("\n".join(lines) + "\n")
    write_report(run, RunInfo(mode="load", target="https://api.example", users=10, cloudwatch_logs=logs))
    summary = (run / "summary.md").read_text()
    assert "billed durations of 50 CloudWatch REPORT lines" in summary
    assert "| cold starts < 2 s p99 | 1800 ms p99 of 1 (init or restore) | pass |" in summary


def test_the_report_folder_is_what_a_run_leaves(run, tmp_path):
    """write_report needs only the files the runner and the locustfile write (and tolerates a missing chart)."""
    bare = tmp_path / "bare"
    shutil.copytree(run, bare)
    (bare / "locust_stats_history.csv").unlink()
    write_report(bare, RunInfo(mode="load", workers=4, users=10))
    assert (bare / "summary.md").exists()
    assert not (bare / "chart.svg").exists()


def test_a_report_is_written_again_with_cloudwatch_lines(run, tmp_path):
    """`python -m tools.load.summary FOLDER --logs FILE`: the run's description is kept in run.json."""
    from tools.load.summary import load_info, main, save_info

    save_info(run, RunInfo(mode="load", target="https://api.example", users=10, loadavg_before="0.5"))
    assert load_info(run).loadavg_before == "0.5"
    json_line = next(line.strip() for line in (run / "server.log").open() if '"durationMs"' in line)
    logs = tmp_path / "cloudwatch.txt"
    logs.write_text(
        f"START RequestId: 1f\n{json_line}\nREPORT RequestId: 1f\tDuration: 3.1 ms\tBilled Duration: 4 ms\t"
        "Memory Size: 2048 MB\tMax Memory Used: 140 MB\n"
    )
    assert main([str(run), "--logs", str(logs)]) == 0  # no failure; goals above its 20 RPS are not judged
    assert "billed durations of 1 CloudWatch REPORT lines" in (run / "summary.md").read_text()


def test_fault_windows_of_the_recorded_fault_run(tmp_path):
    """Requests are counted in the windows between the real pause and resume times of faults.json."""
    run = unpack("fault", tmp_path)
    assert write_report(run, RunInfo(mode="fault", workers=4, users=10)).exit_code == 0  # nothing failed
    summary = (run / "summary.md").read_text()
    samples = read_samples(run / "requests.csv")
    started = json.loads((run / "started.json").read_text())["epoch"]
    for fault in json.loads((run / "faults.json").read_text()):
        during = [s for s in samples if fault["paused"] <= s.start < fault["resumed"]]
        after = [s for s in samples if fault["resumed"] <= s.start < fault["resumed"] + 10]
        p95 = percentile([s.ms for s in during], 95)
        line = next(line for line in summary.splitlines() if line.startswith(f"| {fault['service']} paused |"))
        assert f"| {len(during)} | 0 (0.00%) |" in line
        assert f"| {p95:.0f} |" in line
        assert f"| 10 s after {fault['service']} resumed |  | {len(after) / 10:.1f} | {len(after)} |" in summary
    before = [
        s for s in samples if s.start - started < json.loads((run / "faults.json").read_text())[0]["paused"] - started
    ]
    assert f"| before the faults |  | {len(before) / 10:.1f} | {len(before)} |" in summary
    assert "## PRD goals" in summary


def test_highest_rate_of_the_recorded_max_run(tmp_path):
    """The stairs that ran (stairs.json), each without its first 5 s; the highest that held is the answer."""
    run = unpack("max", tmp_path)
    verdict = write_report(run, RunInfo(mode="max", workers=2, users=10))
    summary = (run / "summary.md").read_text()
    stairs = json.loads((run / "stairs.json").read_text())
    plan = Plan.load(run / "plan.json")
    samples = read_samples(run / "requests.csv")
    started = json.loads((run / "started.json").read_text())["epoch"]
    held = None
    for stair, (label, begin, end, rate) in zip(stairs, plan.windows(), strict=False):
        inside = [s for s in samples if begin + 5 <= s.start - started < end]
        line = next(line for line in summary.splitlines() if line.startswith(f"| {label} |"))
        assert f"| {len(inside) / (end - begin - 5):.1f} | {len(inside)} |" in line
        assert line.endswith("| holds |" if stair["holds"] else "| does not hold |")
        if stair["holds"]:
            held = rate
    assert verdict.exit_code == (0 if held else 1)
    expected = f"**{held:g} RPS** held with p95 < 100 ms and no errors" if held else "No stair held."
    assert expected in summary
