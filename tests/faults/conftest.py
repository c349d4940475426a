"""Fixtures of the fault suite: outages started from a thread in the middle of a request, and the application served
as a warm Lambda runs it. The helpers themselves are in `probes.py`; `owner` (a caller of the test's own, so bucket
listings see only its data), `api` and `moc` are the shared fixtures of tests/conftest.py. Every test gives the services
back as it found them (started or resumed, whatever it raised), so the rest of the session keeps working."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.faults.probes import LiveApp, Trigger, begin_outage, end_outage
from tools.devstack import Service


@pytest.fixture
def outage_when() -> Iterator[Callable[[Service, str, Callable[[], bool]], Trigger]]:
    """`with outage_when(services.s3, "paused", condition):` stops or pauses the service from a thread as soon as
    `condition()` holds, in the middle of whatever the block does; it is started or resumed when the test ends."""
    begun: list[tuple[Service, str]] = []

    def make(service: Service, kind: str, condition: Callable[[], bool]) -> Trigger:
        def begin() -> None:
            begun.append((service, kind))
            begin_outage(service, kind)

        return Trigger(condition, begin)

    yield make
    for service, kind in begun:
        end_outage(service, kind)


@pytest.fixture
def live_app() -> Iterator[LiveApp]:
    app = LiveApp()
    yield app
    app.close()
