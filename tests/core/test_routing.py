"""`lego_api.core.routing.route` placeholders (SPEC §1.6): `{id}` matches UUIDs only, `{id:text}` (the opaque user id
of `/api/users/{id}`) any one non-empty segment; the trailing slash is optional either way."""

from __future__ import annotations

import copy
import uuid

import pytest
from django.urls import resolve

from lego_api.core.routers import LazyView, Router, literal_first
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


def test_a_lazy_view_is_the_view_s_as_view_once_looked_at():
    from mocs.views.links import MocGalleryImagesView

    lazy = LazyView("mocs.views.links", "MocGalleryImagesView")
    assert repr(lazy) == "LazyView(mocs.views.links.MocGalleryImagesView)"
    assert copy.copy(lazy)._module == "mocs.views.links"  # copying reads no view attribute (no import, no recursion)
    assert lazy.cls is MocGalleryImagesView  # what drf-spectacular and SnapStart's warm-up read
    assert lazy.view_class is MocGalleryImagesView  # what Django's ResolverMatch reads
    assert lazy.csrf_exempt is True  # what the CSRF middleware reads
    assert lazy.resolve() is lazy.resolve()  # one as_view() for the process


@pytest.mark.django_db
def test_a_lazy_route_serves_its_view(client, issuer):
    """Through the API's URLs: the match is the LazyView, which answers as the view does (here M19 for a MOC that
    does not exist: its 404)."""
    path = f"/api/mocs/{uuid.uuid4()}/parts-lists"
    match = resolve(path)
    assert isinstance(match.func, LazyView)
    assert match.view_name == "moc-parts-lists"
    assert match._func_path == "mocs.views.parts_lists.PartsListCollectionView"
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {issuer.token('lazy-route-user')}")
    assert response.status_code == 404
    assert response.json()["success"] is False
