"""The pieces of SPEC §6.1 "Consistency under faults" one by one, against the real Redis and PostgreSQL: the circuit
breaker under every cache alias, failed bumps recorded as debts after commit, the once-a-second debt check that
applies them, no query on a cache hit between checks, and a read that races a write storing under the old key.

Time is a `ManualClock` installed as the breaker's clock, so the 5 s and 1 s windows pass without sleeping."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache, caches
from django.db import connection, transaction
from django_redis import get_redis_connection
from redis.exceptions import ResponseError

from lego_api.core.cache import (
    VERSIONS_CACHE,
    CachedResult,
    bump,
    get_versions,
    users_with_debts,
)
from lego_api.core.models import CacheDebt
from lego_api.core.redis_breaker import OPEN_SECONDS, BreakerConnectionMixin, CircuitOpen, breaker
from mocs.models import Moc
from tests.factories import MocFactory
from tests.helpers import cached_result, failing_insert

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tripped(services, clock) -> None:
    """The breaker opened by a real stall (one cache call while Redis is paused); Redis answers again after."""
    with services.redis.paused():
        assert cache.get("anything") is None
    assert breaker.is_open and breaker.failures == 1


def debts() -> list[tuple[str, str]]:
    return sorted(CacheDebt.objects.values_list("user_id", "family"))


# --- The breaker ------------------------------------------------------------------------------------------------


def test_every_alias_times_out_within_250_ms_behind_the_breaker():
    for alias in ("default", VERSIONS_CACHE):
        pool = get_redis_connection(alias).connection_pool
        assert pool.connection_kwargs["socket_timeout"] <= 0.25
        assert pool.connection_kwargs["socket_connect_timeout"] <= 0.25
        assert issubclass(pool.connection_class, BreakerConnectionMixin)


def test_a_stall_opens_the_breaker_and_every_alias_skips_redis_for_five_seconds(services, clock):
    cache.set("kept", 1)
    with services.redis.paused():
        assert cache.get("kept") is None  # pays the 250 ms timeout: a miss
        assert breaker.is_open and breaker.failures == 1
        cache.set("lost", 1)  # a no-op
        assert cache.incr("kept") is None
        with pytest.raises(CircuitOpen):
            caches[VERSIONS_CACHE].get("kept")  # the versions alias raises; core catches
        clock.advance(OPEN_SECONDS - 0.1)
        assert cache.get("kept") is None
        assert breaker.failures == 1, "no call after the first reached Redis"
    clock.advance(0.1)
    assert not breaker.is_open
    assert cache.get("kept") == 1 and cache.get("lost") is None


def test_a_failed_call_after_the_window_opens_it_again(services, clock):
    with services.redis.paused():
        cache.get("a")
        clock.advance(OPEN_SECONDS)
        assert not breaker.is_open
        cache.get("a")
        assert breaker.is_open and breaker.failures == 2


def test_a_command_error_is_not_an_outage(clock):
    with pytest.raises(ResponseError):
        get_redis_connection(VERSIONS_CACHE).execute_command("NO-SUCH-COMMAND")
    assert not breaker.is_open and breaker.failures == 0


def test_get_versions_is_none_while_the_breaker_is_open(tripped):
    assert get_versions("alice", "mocs") is None


# --- Debts ------------------------------------------------------------------------------------------------------


def test_a_failed_bump_becomes_a_debt_after_commit(tripped):
    with transaction.atomic():
        bump("mocs", "alice")
        assert debts() == []
    assert debts() == [("alice", "mocs")]
    assert users_with_debts() == {"alice"}


def test_a_rolled_back_write_owes_nothing(tripped):
    with pytest.raises(RuntimeError), transaction.atomic():
        bump("mocs", "alice")
        raise RuntimeError("rolled back")
    assert debts() == []


def test_a_debt_that_cannot_be_written_still_protects_the_owner_in_this_process(
    tripped, clock, django_db_blocker, caplog
):
    with failing_insert(django_db_blocker, table="core_cache_debt", when="TRUE"):
        bump("mocs", "alice")
    assert debts() == []
    assert "cache debt not recorded" in caplog.messages
    assert users_with_debts() == {"alice"}
    clock.advance(OPEN_SECONDS)
    version = get_versions("alice", "mocs")["mocs"]
    assert users_with_debts() == frozenset(), "applied from memory once Redis answers"
    assert get_versions("alice", "mocs") == {"mocs": version + 1}


def test_debts_are_applied_once_per_user_and_family_and_deleted_when_redis_answers(clock):
    versions = get_versions("alice", "mocs", "gallery")
    bob_version = get_versions("bob", "wishlist")["wishlist"]
    for user_id, family in [("alice", "mocs"), ("alice", "mocs"), ("alice", "gallery"), ("bob", "wishlist")]:
        CacheDebt.objects.create(user_id=user_id, family=family)
    assert users_with_debts() == frozenset()
    assert debts() == []
    assert get_versions("alice", "mocs", "gallery") == {f: v + 1 for f, v in versions.items()}
    assert get_versions("bob", "wishlist") == {"wishlist": bob_version + 1}


def test_debts_wait_while_the_breaker_is_open(tripped, clock):
    CacheDebt.objects.create(user_id="alice", family="mocs")
    assert users_with_debts() == {"alice"}
    clock.advance(OPEN_SECONDS)
    assert users_with_debts() == frozenset()
    assert debts() == []


def test_a_debt_that_redis_refuses_again_stays(services, clock):
    CacheDebt.objects.create(user_id="alice", family="mocs")
    with services.redis.paused():
        assert users_with_debts() == {"alice"}  # the breaker was closed: the bump is tried and times out
    assert breaker.is_open
    assert debts() == [("alice", "mocs")]


def test_debts_are_read_at_most_once_a_second(clock, django_assert_num_queries):
    with django_assert_num_queries(1):
        users_with_debts()
    CacheDebt.objects.create(user_id="alice", family="mocs")
    with django_assert_num_queries(0):
        assert users_with_debts() == frozenset()
        clock.advance(0.99)
        assert users_with_debts() == frozenset()
    clock.advance(0.01)
    assert users_with_debts() == frozenset()
    assert debts() == [], "the second check found the debt and applied it"


def test_a_cache_hit_adds_no_query_between_debt_checks(api, moc, clock, django_assert_num_queries):
    assert api.get(f"/api/mocs/{moc.pk}")["X-Cache"] == "MISS"
    with django_assert_num_queries(0):
        assert api.get(f"/api/mocs/{moc.pk}")["X-Cache"] == "HIT"
    clock.advance(1.0)
    with django_assert_num_queries(1):  # the once-a-second debt check
        assert api.get(f"/api/mocs/{moc.pk}")["X-Cache"] == "HIT"


# --- Versions before the database -------------------------------------------------------------------------------


def test_a_read_that_races_a_write_stores_its_result_under_the_old_key(clock):
    moc = MocFactory(user_id="alice", title="Before")
    families = ("mocs", "gallery")
    read_done = threading.Barrier(2, timeout=30)
    write_done = threading.Barrier(2, timeout=30)
    raced: list[tuple[CachedResult, bool]] = []

    def slow_compute() -> CachedResult:
        title = Moc.objects.get(pk=moc.pk).title
        read_done.wait()  # the write commits and bumps while this read still holds the old title
        write_done.wait()
        return CachedResult(data={"title": title})

    def reader() -> None:
        try:
            raced.append(
                cached_result(
                    name="mocs:detail", user_id="alice", parts=[str(moc.pk)], families=families, ttl=600,
                    compute=slow_compute,
                )
            )  # fmt: skip
        finally:
            connection.close()

    def writer() -> None:
        try:
            read_done.wait()
            with transaction.atomic():
                Moc.objects.filter(pk=moc.pk).update(title="After")
                bump("mocs", "alice")
            write_done.wait()
        finally:
            connection.close()

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert raced == [(CachedResult(data={"title": "Before"}), False)]

    def fresh() -> CachedResult:
        return CachedResult(data={"title": Moc.objects.get(pk=moc.pk).title})

    def read_now() -> tuple[CachedResult, bool]:
        return cached_result(
            name="mocs:detail", user_id="alice", parts=[str(moc.pk)], families=families, ttl=600, compute=fresh
        )

    assert read_now() == (CachedResult(data={"title": "After"}), False), "the raced result is unreachable"
    assert read_now() == (CachedResult(data={"title": "After"}), True)
