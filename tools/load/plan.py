"""A load run's plan: its stages (a rate held for a duration) and, for the fault run, when each service is paused.

Shared by the runner (which pauses services and writes the summary) and the locustfile's shape (which sets the
rate), through `plan.json` in the report folder. Pure data: no Django, no Locust.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Each virtual user paces itself to this many requests per second; the shape runs rate / PACE users. Two per second
# leaves each user 500 ms per request before it falls behind (the PRD's p95 bound).
PACE = 2.0
# load-max: the first stair, the step, the highest stair tried, and how long each stair holds (its first seconds
# are a warm-up the verdict leaves out).
MAX_START, MAX_STEP, MAX_CEILING, MAX_STAIR_SECONDS, MAX_WARMUP_SECONDS = 50, 50, 800, 20, 5
# load-max: a stair holds when p95 < 100 ms, no request failed and the achieved rate is within 5% of the target.
MAX_P95_MS, MAX_RATE_SHORTFALL = 100.0, 0.05


@dataclass(frozen=True)
class Stage:
    label: str
    rate: float  # requests per second
    seconds: float

    @property
    def users(self) -> int:
        return max(1, math.ceil(self.rate / PACE))


@dataclass(frozen=True)
class Fault:
    service: str  # the devstack service name: redis, opensearch
    start: float  # seconds after the run started
    seconds: float


@dataclass
class Plan:
    name: str  # load, max, fault
    stages: list[Stage]
    faults: list[Fault] = field(default_factory=list)
    # load-max: stop after a stair fails (the shape reads the verdicts the locustfile keeps)
    stop_on_failed_stair: bool = False
    # the share of the time the search:down switch is held on (local runs), so searches reach the fallback
    fallback_share: float = 0.0

    @property
    def seconds(self) -> float:
        return sum(stage.seconds for stage in self.stages)

    def windows(self) -> list[tuple[str, float, float, float]]:
        """(label, start, end, rate) of each stage, in seconds from the run's start."""
        out, start = [], 0.0
        for stage in self.stages:
            out.append((stage.label, start, start + stage.seconds, stage.rate))
            start += stage.seconds
        return out

    def stage_at(self, elapsed: float) -> Stage | None:
        for (_, start, end, _), stage in zip(self.windows(), self.stages, strict=True):
            if start <= elapsed < end:
                return stage
        return None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> Plan:
        raw = json.loads(Path(path).read_text())
        return cls(
            name=raw["name"],
            stages=[Stage(**stage) for stage in raw["stages"]],
            faults=[Fault(**fault) for fault in raw.get("faults", [])],
            stop_on_failed_stair=raw.get("stop_on_failed_stair", False),
            fallback_share=raw.get("fallback_share", 0.0),
        )


def load_plan(rate: float, seconds: float, spike_rate: float, spike_seconds: float, *, fallback_share: float) -> Plan:
    """`make load`: RATE for DURATION, then SPIKE_RATE for SPIKE_DURATION (0: no spike)."""
    stages = [Stage("sustained", rate, seconds)]
    if spike_seconds > 0:
        stages.append(Stage("spike", spike_rate, spike_seconds))
    return Plan("load", stages, fallback_share=fallback_share)


def max_plan(
    start: int = MAX_START, step: int = MAX_STEP, ceiling: int = MAX_CEILING, stair_seconds: float = MAX_STAIR_SECONDS
) -> Plan:
    """`make load-max`: stairs of `step` RPS from `start` up to `ceiling`, stopping after the first that fails."""
    stages = [Stage(f"{rate} rps", rate, stair_seconds) for rate in range(start, ceiling + 1, step)]
    return Plan("max", stages, stop_on_failed_stair=True)


def fault_plan(rate: float, *, fault_seconds: float = 10, settle: float = 10, recover: float = 20) -> Plan:
    """`make load-fault`: RATE throughout; Redis paused after `settle` s for `fault_seconds`, then `recover` s, then
    OpenSearch paused the same way, then `recover` s more."""
    redis_at = settle
    opensearch_at = redis_at + fault_seconds + recover
    seconds = opensearch_at + fault_seconds + recover
    return Plan(
        "fault",
        [Stage("fault run", rate, seconds)],
        faults=[Fault("redis", redis_at, fault_seconds), Fault("opensearch", opensearch_at, fault_seconds)],
    )


def fault_windows(plan: Plan, *, after_seconds: float = 10) -> list[tuple[str, float, float]]:
    """(label, start, end) in seconds from the run's start: before the first fault, during each fault, and the
    `after_seconds` that follow each one's resume."""
    if not plan.faults:
        return []
    out = [("before the faults", 0.0, plan.faults[0].start)]
    for fault in plan.faults:
        end = fault.start + fault.seconds
        out.append((f"{fault.service} paused", fault.start, end))
        out.append((f"{after_seconds:g} s after {fault.service} resumed", end, end + after_seconds))
    return out
