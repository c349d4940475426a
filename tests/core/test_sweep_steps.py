"""The registry of sweeper steps (`lego_api.core.sweeper`, SPEC §7.3): apps add steps to `cleanup_stale_uploads`
without the task importing them; each registered step runs once a run with the run's time, and one failing step is
logged without stopping the others."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from lego_api.core import sweeper

NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def steps(monkeypatch):
    """An empty registry for the test (the apps' own steps are put back afterwards)."""
    monkeypatch.setattr(sweeper, "_steps", {})
    return sweeper


def test_registered_steps_run_with_the_runs_time_and_report_their_counts(steps):
    seen = []
    steps.register_sweep_step("first", lambda now: seen.append(("first", now)) or 2)
    steps.register_sweep_step("second", lambda now: seen.append(("second", now)) or 0)

    assert steps.run_sweep_steps(now=NOW) == {"first": 2, "second": 0}
    assert seen == [("first", NOW), ("second", NOW)]
    assert steps.registered_sweep_steps() == ["first", "second"]


def test_a_failing_step_is_logged_and_the_others_still_run(steps, caplog):
    def broken(now):
        raise RuntimeError("database went away")

    steps.register_sweep_step("broken", broken)
    steps.register_sweep_step("fine", lambda now: 1)

    with caplog.at_level(logging.ERROR, logger="lego_api.sweeper"):
        assert steps.run_sweep_steps(now=NOW) == {"fine": 1}

    [record] = caplog.records
    assert (record.getMessage(), record.step, record.exc_info[0]) == ("sweep step failed", "broken", RuntimeError)


def test_a_name_has_one_step(steps):
    def step(now):
        return 0

    steps.register_sweep_step("mine", step)
    steps.register_sweep_step("mine", step)  # the same registration again (an app's ready() run twice) is fine
    with pytest.raises(ImproperlyConfigured):
        steps.register_sweep_step("mine", lambda now: 0)
