"""The counts registry behind the profile's `stats` (SPEC §3.12): each app counts its own rows for a user, one COUNT
query per counter, and a counter no app registered is 0 (profiles imports no other app to read them)."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from lego_api.core import counts
from mocs.services.mocs import moc_count
from tests.factories import MocFactory, SetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def only_mocs_registered(monkeypatch):
    """The registry as it is before gallery and wishlist register theirs: MOCs only."""
    monkeypatch.setattr(counts, "_counters", {"mocs": moc_count})


@pytest.fixture
def empty_registry(monkeypatch):
    monkeypatch.setattr(counts, "_counters", {})


def test_mocs_counts_the_users_mocs_and_sets_together(owner):
    """Through the registry as the apps fill it (MocsConfig.ready() registered `mocs`)."""
    MocFactory.create_batch(2, user_id=owner)
    SetFactory(user_id=owner)
    MocFactory(user_id=f"other-{uuid.uuid4().hex[:12]}")  # someone else's

    assert counts.user_counts(owner)["mocs"] == 3


def test_a_user_with_no_rows_counts_zero_everywhere(owner):
    MocFactory(user_id=f"other-{uuid.uuid4().hex[:12]}")

    assert counts.user_counts(owner) == {"mocs": 0, "images": 0, "albums": 0, "wishlistItems": 0}


def test_the_counters_are_the_profile_stats_in_order(owner):
    assert list(counts.user_counts(owner)) == ["mocs", "images", "albums", "wishlistItems"]


def test_counters_no_app_registered_are_zero(owner, only_mocs_registered):
    MocFactory(user_id=owner)

    assert counts.user_counts(owner) == {"mocs": 1, "images": 0, "albums": 0, "wishlistItems": 0}


def test_the_mocs_counter_is_one_count_query(owner, only_mocs_registered, django_assert_num_queries):
    MocFactory.create_batch(3, user_id=owner)

    with django_assert_num_queries(1) as captured:
        assert counts.user_counts(owner)["mocs"] == 3
    assert "COUNT(*)" in captured.captured_queries[0]["sql"]


def test_an_unregistered_counter_costs_no_query(owner, empty_registry, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert counts.user_counts(owner) == {"mocs": 0, "images": 0, "albums": 0, "wishlistItems": 0}


def test_a_counter_has_one_owner(empty_registry):
    counts.register_counter("images", moc_count)
    counts.register_counter("images", moc_count)  # the same function again (ready() run twice) is fine

    with pytest.raises(ImproperlyConfigured, match="already registered"):
        counts.register_counter("images", lambda *, user_id: 0)


def test_only_the_profile_stats_can_be_registered(empty_registry):
    with pytest.raises(ImproperlyConfigured, match="Unknown counter"):
        counts.register_counter("flags", moc_count)
