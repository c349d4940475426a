"""Cost per million requests and a monthly projection (issue 12 item 2), from the durations a run measured.

Lambda bills each invocation's duration rounded up to the millisecond, times the function's memory. Locally the
duration is the request's `durationMs` from the server's JSON log (the Django pipeline, middleware to response), so
what a Lambda invocation adds around it (the Zappa handler's event translation) is not in it, and this machine's
cores are not Lambda's (2048 MB is about 1.15 vCPU): a local run estimates, a TARGET run with CloudWatch REPORT
lines bills what Lambda billed. The prices are in tools/load/prices.py (one place, dated); every assumption is a
field of `Assumptions` and is printed next to the figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tools.load import prices
from tools.load.scenarios import SCENARIOS

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MONTH_SECONDS = 730 * 3600  # AWS prices a month as 730 hours


def zappa_stage(stage: str = "dev", path: Path = PROJECT_ROOT / "zappa_settings.json") -> dict:
    """A Zappa stage's settings with `extends` resolved."""
    settings = json.loads(path.read_text())
    resolved: dict = {}
    chain = []
    name: str | None = stage
    while name:
        chain.append(settings[name])
        name = settings[name].get("extends")
    for part in reversed(chain):
        resolved.update(part)
    return resolved


@dataclass
class Assumptions:
    """What the projection assumes beyond the measured durations (printed beside the figures)."""

    memory_mb: int = 2048  # zappa_settings.json memory_size (API and worker)
    keep_warm: bool = False  # zappa_settings.json keep_warm on the API stage (README "Keep-warm is off")
    keep_warm_per_month: int = 10_950  # Zappa's default keep-warm rate(4 minutes), were it on
    keep_warm_ms: float = 5.0
    snapstart: bool = True  # the API stages publish versions with SnapStart
    # Worker (async) invocations: the billed duration of each task kind (estimates: search_index is one bulk
    # request to OpenSearch; process_gallery_image decodes, resizes and encodes a photo-sized image twice).
    task_ms: dict[str, float] = field(default_factory=lambda: {"search_index": 60.0, "process_gallery_image": 1200.0})
    sweeper_per_month: int = 730  # cleanup_stale_uploads, rate(1 hour)
    sweeper_ms: float = 2000.0
    # SnapStart: a restore per new execution environment; assumed one per 10,000 requests.
    restores_per_million: float = 100.0
    deploys_per_month: int = 8
    versions_per_deploy: int = 2  # Zappa publishes twice per SnapStart deploy, each version with a snapshot
    retained_versions: int = 10  # num_retained_versions
    inactive_after_days: float = 14.0  # Lambda deactivates a SnapStart version not invoked for 14 days

    @classmethod
    def from_zappa(cls, stage: str = "dev", path: Path = PROJECT_ROOT / "zappa_settings.json") -> Assumptions:
        api = zappa_stage(stage, path)
        return cls(
            memory_mb=int(api.get("memory_size", 2048)),
            keep_warm=bool(api.get("keep_warm", True)),  # Zappa's default is on
            snapstart=api.get("snap_start", "None") == "PublishedVersions",
        )

    @property
    def memory_gb(self) -> float:
        return self.memory_mb / 1024

    def superseded_snapshot_days(self) -> float:
        """How long a replaced version's snapshot stays cached: until deactivated (not invoked for 14 days) or
        deleted (the oldest of `retained_versions` goes after retained / per-deploy deploys), whichever is first."""
        deploys_kept = self.retained_versions / self.versions_per_deploy
        days_until_deleted = deploys_kept * 30.4 / max(1, self.deploys_per_month)
        return min(self.inactive_after_days, days_until_deleted)


@dataclass(frozen=True)
class PerMillion:
    """USD per million API requests of one scenario (or the mix)."""

    requests: int  # how many requests the figures come from
    billed_ms: float  # mean billed duration (ms, rounded up per request)
    lambda_duration: float
    lambda_requests: float
    api_gateway: float
    worker: float
    snapstart_restores: float

    @property
    def total(self) -> float:
        return self.lambda_duration + self.lambda_requests + self.api_gateway + self.worker + self.snapstart_restores


def billed(duration_ms: float) -> int:
    """Lambda's billed milliseconds of a duration (rounded up, at least 1)."""
    return max(1, math.ceil(duration_ms))


def worker_cost_per_request(scenario: str | None, assumptions: Assumptions) -> float:
    tasks = SCENARIOS[scenario].worker_tasks if scenario in SCENARIOS else ()
    cost = 0.0
    for task in tasks:
        seconds = assumptions.task_ms.get(task, 100.0) / 1000
        cost += prices.LAMBDA_PER_MILLION_REQUESTS / 1e6 + seconds * assumptions.memory_gb * prices.LAMBDA_GB_SECOND
    return cost


def per_million(billed_ms: Iterable[int], scenarios: Iterable[str | None], assumptions: Assumptions) -> PerMillion:
    """Cost per million requests with these billed durations (and each request's scenario, for its worker tasks)."""
    durations = list(billed_ms)
    kinds = list(scenarios)
    if not durations:
        raise ValueError("no request durations")
    mean_ms = sum(durations) / len(durations)
    gb = assumptions.memory_gb
    worker = sum(worker_cost_per_request(kind, assumptions) for kind in kinds) / len(kinds) * 1e6
    restores = assumptions.restores_per_million * gb * prices.SNAPSTART_RESTORE_PER_GB if assumptions.snapstart else 0
    return PerMillion(
        requests=len(durations),
        billed_ms=mean_ms,
        lambda_duration=mean_ms / 1000 * gb * prices.LAMBDA_GB_SECOND * 1e6,
        lambda_requests=prices.LAMBDA_PER_MILLION_REQUESTS,
        api_gateway=prices.APIGW_REST_PER_MILLION,
        worker=worker,
        snapstart_restores=restores,
    )


@dataclass(frozen=True)
class Monthly:
    requests: float
    per_request_traffic: float  # the mix's per-million cost times the traffic
    sweeper: float
    keep_warm: float
    snapshot_cache: float
    worker_invocations: float

    @property
    def total(self) -> float:
        return self.per_request_traffic + self.sweeper + self.keep_warm + self.snapshot_cache


def monthly(mix: PerMillion, requests_per_month: float, tasks_per_request: float, a: Assumptions) -> Monthly:
    """A month of `requests_per_month` API requests in the run's mix, plus the fixed parts: the hourly sweeper,
    keep-warm (off on the SnapStart stages), and the cached snapshots (the live version all month, each replaced
    one until deactivated or deleted)."""
    gb_second = a.memory_gb * prices.LAMBDA_GB_SECOND
    invocation = prices.LAMBDA_PER_MILLION_REQUESTS / 1e6
    sweeper = a.sweeper_per_month * (invocation + a.sweeper_ms / 1000 * gb_second)
    keep_warm = a.keep_warm_per_month * (invocation + a.keep_warm_ms / 1000 * gb_second) if a.keep_warm else 0.0
    snapshot = 0.0
    if a.snapstart:
        cached_seconds = MONTH_SECONDS + a.deploys_per_month * a.versions_per_deploy * max(
            prices.SNAPSTART_CACHE_MINIMUM_SECONDS, a.superseded_snapshot_days() * 86400
        )
        snapshot = cached_seconds * a.memory_gb * prices.SNAPSTART_CACHE_GB_SECOND
    return Monthly(
        requests=requests_per_month,
        per_request_traffic=mix.total * requests_per_month / 1e6,
        sweeper=sweeper,
        keep_warm=keep_warm,
        snapshot_cache=snapshot,
        worker_invocations=requests_per_month * tasks_per_request + a.sweeper_per_month,
    )


def tasks_per_request(scenarios: Iterable[str | None]) -> float:
    kinds = list(scenarios)
    if not kinds:
        return 0.0
    return sum(len(SCENARIOS[k].worker_tasks) if k in SCENARIOS else 0 for k in kinds) / len(kinds)
