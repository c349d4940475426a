"""The cache family registry (lego_api.core.cache, SPEC §6.1): each app registers its family of namespace counters,
and a bump or a versioned read of a family no app registered is refused at once, so that a misspelt family cannot
silently leave cached entries stale."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from lego_api.core.cache import (
    VERSIONS_CACHE,
    CachedResult,
    UnknownCacheFamily,
    bump,
    get_versions,
    register_family,
    registered_families,
)
from tests.helpers import cached_result

pytestmark = pytest.mark.django_db

SPEC_FAMILIES = {"mocs", "gallery", "wishlist", "profile"}


def test_each_spec_family_is_registered_by_its_app():
    assert set(registered_families()) == SPEC_FAMILIES


def test_registered_families_bump_and_read(django_capture_on_commit_callbacks):
    before = get_versions("alice", *SPEC_FAMILIES)
    with django_capture_on_commit_callbacks(execute=True):
        for family in SPEC_FAMILIES:
            bump(family, "alice")
    assert get_versions("alice", *SPEC_FAMILIES) == {family: version + 1 for family, version in before.items()}


def test_a_bump_of_an_unregistered_family_is_refused_before_anything_is_scheduled(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(UnknownCacheFamily, match="moc"):
        bump("moc", "alice")
    assert callbacks == []


def test_a_versioned_read_of_an_unregistered_family_is_refused_and_creates_no_counter():
    with pytest.raises(UnknownCacheFamily, match="galery"):
        get_versions("alice", "mocs", "galery")
    assert caches[VERSIONS_CACHE].get_many(["v:mocs:alice", "v:galery:alice"]) == {}


def test_a_cached_result_over_an_unregistered_family_is_refused_without_computing():
    computed = []

    def compute() -> CachedResult:
        computed.append(True)
        return CachedResult(data=[])

    with pytest.raises(UnknownCacheFamily):
        cached_result(name="mocs:list", user_id="alice", families=("mocs", "wishlists"), ttl=60, compute=compute)
    assert computed == []


def test_registering_again_is_harmless():
    register_family("mocs")
    assert set(registered_families()) == SPEC_FAMILIES
    assert len(registered_families()) == len(SPEC_FAMILIES)


@pytest.mark.parametrize("name", ["", "Mocs", "mocs:list", "mocs.v2", "2mocs", "gallery images"])
def test_a_family_name_that_would_break_the_key_shapes_is_refused(name):
    with pytest.raises(ValueError, match="cache family"):
        register_family(name)
    assert name not in registered_families()
