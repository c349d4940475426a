"""The steps apps add to the hourly sweeper `cleanup_stale_uploads` (SPEC §7.3): "each app contributes its step
through a registry; the task itself lives in core or mocs and imports no other app".

An app registers, in its AppConfig.ready(), a named step: a function taking `now=` (the run's time) that repairs what
its own uploads left half done, bumps the owners' cache versions for the rows it changes, and returns how many rows
it changed. The sweeper runs every registered step once per run; each is safe to re-run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("lego_api.sweeper")

SweepStep = Callable[..., int]  # called as step(now=...) -> rows changed
_steps: dict[str, SweepStep] = {}


def register_sweep_step(name: str, step: SweepStep) -> None:
    """Run `step(now=...)` in every sweeper run; `name` (camelCase) is the count's key in the run's log line."""
    registered = _steps.setdefault(name, step)
    if registered is not step:
        raise ImproperlyConfigured(f"Sweep step {name!r} is already registered by {registered.__module__}")


def registered_sweep_steps() -> list[str]:
    return list(_steps)


def run_sweep_steps(*, now: datetime) -> dict[str, int]:
    """Run every registered step; `{name: rows changed}`. A step that fails is logged (with its traceback) and the
    others still run: one app's trouble does not stop another's cleanup, and the next hourly run retries it."""
    counts: dict[str, int] = {}
    for name, step in _steps.items():
        try:
            counts[name] = step(now=now)
        except Exception:
            logger.exception("sweep step failed", extra={"step": name})
    return counts
