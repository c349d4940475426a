"""Business KPIs and request latency as CloudWatch Embedded Metric Format (EMF) lines.

    from lego_api.core import metrics
    metrics.emit("MocsCreated", 1)                                  # Count by default
    metrics.emit("RequestLatency", 12.5, unit="Milliseconds", properties={"path": "/api/mocs"})
    metrics.emit_on_commit("FilesUploaded", 3)                      # only if the transaction commits

Each call writes one JSON object on one stdout line; on Lambda, CloudWatch Logs turns it into a metric in the
`LegoApi` namespace, dimensioned by `Environment` only (each name/environment pair is one custom metric, so cost is
fixed). `properties` are stored with the log line (searchable in Logs Insights) but are not dimensions.

A 30-line emitter rather than aws-embedded-metrics: that library collects metrics in a per-invocation context behind
a decorator and flushes at its end, which tasks, management commands and tests would all need to wrap; one
synchronous line per event needs nothing. On by default on Lambda (METRICS_ENABLED).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

NAMESPACE = "LegoApi"
UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
        "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
        "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
        "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
    }
)  # fmt: skip

logger = logging.getLogger("lego_api.metrics")


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (CloudWatch reads stdout; tests capture it)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stdout

    @stream.setter
    def stream(self, value) -> None:
        pass


def _logger() -> logging.Logger:
    """EMF needs the bare JSON object as the log line: our own handler, no JSON-log wrapping, no propagation."""
    if not logger.handlers:
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
    return logger


def emit(name: str, value: float, *, unit: str = "Count", properties: Mapping[str, Any] | None = None) -> None:
    """Write one EMF line for one metric value (no-op unless METRICS_ENABLED)."""
    if unit not in UNITS:
        raise ValueError(f"unknown CloudWatch unit {unit!r}")
    if not getattr(settings, "METRICS_ENABLED", False):
        return
    document: dict[str, Any] = {key: val for key, val in (properties or {}).items() if key not in ("_aws", name)}
    document.update(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {"Namespace": NAMESPACE, "Dimensions": [["Environment"]], "Metrics": [{"Name": name, "Unit": unit}]}
                ],
            },
            "Environment": settings.ENVIRONMENT,
            name: value,
        }
    )
    _logger().info(json.dumps(document, separators=(",", ":"), default=str))


def emit_on_commit(
    name: str, value: float, *, unit: str = "Count", properties: Mapping[str, Any] | None = None
) -> None:
    """emit() after the current transaction commits (immediately outside one); a rollback emits nothing."""
    transaction.on_commit(lambda: emit(name, value, unit=unit, properties=properties))
