"""`lego_api.core.routing.route` placeholders (SPEC §1.6): `{id}` matches UUIDs only, `{id:text}` (the opaque user id
of `/api/users/{id}`) any one non-empty segment; the trailing slash is optional either way."""

from __future__ import annotations

import uuid

import pytest

from lego_api.core.routers import Router, literal_first
from lego_api.core.routing import route


def matched(pattern: str, path: str) -> dict | None:
    match = route(pattern, lambda request: None, "probe").resolve(path)
    return None if match is None else match.kwargs


@pytest.mark.parametrize(
    "path", ["users/me", "users/me/", "users/8d2e4f6a-1b3c", "users/us-east-1:abc", "users/a.b@example.com", "users/é"]
)
def test_a_text_placeholder_takes_any_one_segment(path):
    assert matched("users/{id:text}", path) == {"id": path.removeprefix("users/").removesuffix("/")}


@pytest.mark.parametrize("path", ["users/", "users", "users/a/b", "users/a/avatar/x"])
def test_a_text_placeholder_never_spans_segments_or_matches_nothing(path):
    assert matched("users/{id:text}", path) is None


def test_a_text_placeholder_beside_a_literal_segment():
    assert matched("users/{id:text}/avatar", "users/someone/avatar/") == {"id": "someone"}
    assert matched("users/{id:text}/avatar", "users/someone/other") is None


def test_a_plain_placeholder_still_takes_uuids_only():
    assert matched("mocs/{id}", "mocs/not-a-uuid") is None
    some = str(uuid.uuid4())
    assert matched("mocs/{id}", f"mocs/{some}") == {"id": some}


def test_the_router_mounts_text_placeholders_after_literal_segments():
    router = Router()
    router.add("users/{id:text}", lambda request: None, "user")
    router.add("users/search", lambda request: None, "user-search")
    assert [pattern.name for pattern in router.urls] == ["user-search", "user"]
    assert literal_first("users/{id:text}") > literal_first("users/search")
