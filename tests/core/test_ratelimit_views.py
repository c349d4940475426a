"""Rate-limit categories declared by views (SPEC §2.4): a view's `rate_limit_category` (or one handler's, through
`limit_category`) puts its requests in that category as well as `general`; the limiter finds the view by resolving the
path itself, before the body is read. Every upload route of the MOC app declares `upload`, and no other route does."""

from __future__ import annotations

import uuid

import pytest
from django.test import RequestFactory, override_settings
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from lego_api.core.envelope import success
from lego_api.core.ratelimit import UPLOAD, categories_for, limit_category
from lego_api.core.routing import route
from tests import urls as test_urls

pytestmark = pytest.mark.django_db

MOC, FILE = uuid.uuid4(), uuid.uuid4()


class DeclaredUploadView(APIView):
    rate_limit_category = UPLOAD

    def post(self, request: Request) -> object:
        return success({"stored": True}, status=201)


class ImagesViewSet(ViewSet):
    """A gallery-like resource: listing is general, only `create` is an upload."""

    def list(self, request: Request) -> object:
        return success([])

    @limit_category(UPLOAD)
    def create(self, request: Request) -> object:
        return success({"stored": True}, status=201)


class Urls:
    urlpatterns = [
        route("api/test/declared-upload", DeclaredUploadView.as_view(), "test-declared-upload"),
        route("api/test/images", ImagesViewSet.as_view({"get": "list", "post": "create"}), "test-images"),
        *test_urls.urlpatterns,
    ]


def categories(method: str, path: str) -> list[str]:
    return categories_for(getattr(RequestFactory(), method.lower())(path))


@pytest.mark.parametrize(
    "path",
    [
        "/api/mocs/with-files",  # M7
        "/api/mocs/with-files/",
        "/api/mocs/with-files/initialize",  # M8
        f"/api/mocs/{MOC}/files/initialize",  # M9
        f"/api/mocs/{MOC}/files",  # M11
        f"/api/mocs/{MOC}/upload-parts-list",  # M17
        "/api/mocs/upload-parts-list",  # M18
    ],
)
def test_every_moc_upload_route_counts_as_upload(path):
    assert categories("POST", path) == ["general", "upload"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/mocs"),  # M2
        ("GET", "/api/mocs/with-files"),  # not served: a 405
        ("GET", f"/api/mocs/{MOC}/files"),
        ("POST", f"/api/mocs/{MOC}/finalize"),  # M10 writes no object of its own
        ("DELETE", f"/api/mocs/{MOC}/files/{FILE}"),  # M12
        ("POST", f"/api/mocs/{MOC}/parts-lists"),  # M20: JSON, no file
        ("POST", "/api/mocs/with-files/extra"),  # unknown route
        ("POST", "/api/mocs/not-a-uuid/files"),
    ],
)
def test_other_routes_count_as_general_only(method, path):
    assert categories(method, path) == ["general"]


@override_settings(ROOT_URLCONF=Urls)
def test_a_view_declares_its_category_for_the_methods_it_serves():
    assert categories("POST", "/api/test/declared-upload") == ["general", "upload"]
    assert categories("GET", "/api/test/declared-upload") == ["general"]
    assert categories("POST", "/api/test/images") == ["general", "upload"]
    assert categories("GET", "/api/test/images") == ["general"]


@override_settings(ROOT_URLCONF=Urls, RATE_LIMIT_ENABLED=True, RATE_LIMIT_GENERAL="50/900", RATE_LIMIT_UPLOAD="2/3600")
def test_only_the_declared_handler_is_limited_as_an_upload(auth_client):
    api = auth_client("gallery-user")
    for _ in range(5):
        listed = api.get("/api/test/images")
        assert listed.status_code == 200
        assert listed["RateLimit-Policy"] == "50;w=900"

    statuses = [api.post("/api/test/images", {}, format="json").status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    response = api.post("/api/test/declared-upload", {}, format="json")  # the same upload window, per user
    assert response.status_code == 429
    assert response.json()["error"]["details"]["category"] == "upload"
    assert response["RateLimit-Policy"] == "2;w=3600"
    assert api.get("/api/test/images").status_code == 200


@override_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_GENERAL="50/900", RATE_LIMIT_UPLOAD="1/3600")
def test_an_upload_over_the_limit_is_refused_before_its_body_is_read(api, moc):
    path = f"/api/mocs/{moc.id}/files"
    broken = {"content_type": "multipart/form-data; boundary=x"}
    assert api.post(path, b"--x\r\nnot a closed body", **broken).status_code == 400  # the body is read: malformed
    response = api.post(path, b"--x\r\nnot a closed body", **broken)
    assert response.status_code == 429
    assert response.json()["error"]["details"] == {"category": "upload", "retryAfter": int(response["Retry-After"])}
