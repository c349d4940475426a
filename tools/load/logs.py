"""Reading what the server logged during a run: the JSON request lines (SPEC §1.10: `requestId`, `durationMs`, ...)
from gunicorn's captured output, and, for a deployed stage, CloudWatch lines with Lambda's START/REPORT lines
(billed duration, init or restore duration for cold starts)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tools.load.scenarios import scenario_of

_REPORT = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\s+Duration: (?P<duration>[\d.]+) ms\s+Billed Duration: (?P<billed>\d+) ms"
    r"\s+Memory Size: (?P<memory>\d+) MB"
    r"(?:.*?Init Duration: (?P<init>[\d.]+) ms)?(?:.*?Restore Duration: (?P<restore>[\d.]+) ms)?"
)
_START = re.compile(r"START RequestId: (?P<id>\S+)")
_AWS_ID_BEFORE_JSON = re.compile(r"\b(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s+\{")


@dataclass(frozen=True)
class LoggedRequest:
    request_id: str
    scenario: str | None  # from the X-Request-ID the load test sent
    method: str
    path: str
    status: int
    duration_ms: float


@dataclass
class Invocation:
    """One Lambda invocation from CloudWatch: its REPORT figures and our request line, when both were seen."""

    aws_request_id: str
    billed_ms: int
    duration_ms: float
    memory_mb: int
    init_ms: float | None = None
    restore_ms: float | None = None
    request: LoggedRequest | None = None

    @property
    def cold(self) -> bool:
        return self.init_ms is not None or self.restore_ms is not None


@dataclass
class CloudWatchRun:
    invocations: list[Invocation] = field(default_factory=list)

    @property
    def cold_starts_ms(self) -> list[float]:
        """Init (full cold start) or restore (SnapStart) durations: one per new execution environment."""
        return [i.init_ms if i.init_ms is not None else i.restore_ms for i in self.invocations if i.cold]

    def __bool__(self) -> bool:
        return bool(self.invocations)


def _json_request(line: str) -> LoggedRequest | None:
    start = line.find("{")
    if start < 0 or '"durationMs"' not in line:
        return None
    try:
        record = json.loads(line[start:])
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("message") != "request" or "durationMs" not in record:
        return None
    request_id = str(record.get("requestId") or "")
    return LoggedRequest(
        request_id=request_id,
        scenario=scenario_of(request_id),
        method=str(record.get("method")),
        path=str(record.get("path")),
        status=int(record.get("status") or 0),
        duration_ms=float(record["durationMs"]),
    )


def read_request_log(lines: Iterable[str]) -> list[LoggedRequest]:
    """The request lines of a server's output (other lines, gunicorn's own included, are skipped)."""
    return [request for line in lines if (request := _json_request(line)) is not None]


def read_request_log_file(path: Path) -> list[LoggedRequest]:
    if not path.exists():
        return []
    with path.open(errors="replace") as lines:
        return read_request_log(lines)


def read_cloudwatch(lines: Iterable[str]) -> CloudWatchRun:
    """REPORT lines, each matched with our request line of the same invocation: the Lambda request id printed
    before the JSON (the runtime's log prefix), else the last START line seen (a log stream exported in order)."""
    run = CloudWatchRun()
    by_id: dict[str, LoggedRequest] = {}
    current: str | None = None
    for line in lines:
        if started := _START.search(line):
            current = started.group("id")
            continue
        if report := _REPORT.search(line):
            run.invocations.append(
                Invocation(
                    aws_request_id=report.group("id"),
                    billed_ms=int(report.group("billed")),
                    duration_ms=float(report.group("duration")),
                    memory_mb=int(report.group("memory")),
                    init_ms=float(report.group("init")) if report.group("init") else None,
                    restore_ms=float(report.group("restore")) if report.group("restore") else None,
                    request=by_id.get(report.group("id")),
                )
            )
            continue
        if (request := _json_request(line)) is not None:
            prefixed = _AWS_ID_BEFORE_JSON.search(line)
            owner = prefixed.group("id") if prefixed else current
            if owner:
                by_id[owner] = request
    return run


def read_cloudwatch_file(path: Path) -> CloudWatchRun:
    with Path(path).open(errors="replace") as lines:
        return read_cloudwatch(lines)
