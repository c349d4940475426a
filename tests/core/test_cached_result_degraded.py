"""`CachedResult(cacheable=False)` (lego_api.core.cache): a degraded answer (computed while a dependency failed, e.g.
a profile without Cognito) is served but not stored, so the next read computes again instead of serving the
degraded answer for the whole TTL."""

from __future__ import annotations

import pytest

from lego_api.core.cache import CachedResult
from tests.helpers import cached_result

pytestmark = pytest.mark.django_db


def reader(answers: list[CachedResult]):
    computed: list[CachedResult] = []

    def compute() -> CachedResult:
        computed.append(answers[len(computed)])
        return computed[-1]

    return compute, computed


def read(compute) -> tuple[CachedResult, bool]:
    return cached_result(name="probe", user_id="alice", families=("profile",), ttl=60, compute=compute)


def test_a_result_not_cacheable_is_served_and_computed_again_next_time():
    compute, computed = reader([CachedResult(data="degraded", cacheable=False), CachedResult(data="whole")])
    assert read(compute) == (CachedResult(data="degraded", cacheable=False), False)
    assert read(compute) == (CachedResult(data="whole"), False)
    assert read(compute) == (CachedResult(data="whole"), True)
    assert len(computed) == 2
