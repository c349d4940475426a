"""SPEC §2.1 step 7a as a class: every path the app serves answers every method it does not serve with 405
METHOD_NOT_ALLOWED in the error envelope and an `Allow` header listing exactly the methods it does serve.

The paths are read from the URLconf itself (not a hand-kept list), so routes added later are covered too. The
URLconf is built as a file-system-storage process builds it, which mounts every route (C5 and `/media/` too).
"""

from __future__ import annotations

import importlib.util
import re
import uuid

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import URLPattern, URLResolver, resolve
from rest_framework.test import APIClient

import lego_api.urls
from lego_api.core.routing import UUID
from tests.helpers import assert_error

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
# Served with a body that is not the envelope (SPEC §1.1 exceptions): the JWKS, the OpenAPI document and Swagger UI,
# C5's empty 200, and stored files.
NOT_ENVELOPED = re.compile(r"^/(\.well-known/|api/schema|api/docs|local-uploads/|media/)")
SAMPLE_VALUES = {"token": "some-upload-token", "path": "mocs/someone/some-file.txt"}


def _load_urlconf(name: str):
    """A fresh copy of `lego_api.urls`, built under the current settings (the real module is left alone)."""
    spec = importlib.util.spec_from_file_location(name, lego_api.urls.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fill_groups(regex: str) -> str:
    """Replace each named group with a value it matches: a UUID for ids, a sample for the others."""
    out, position = [], 0
    for match in re.finditer(r"\(\?P<(\w+)>", regex):
        if match.start() < position:
            continue
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(regex[end], 0) if regex[end - 1] != "\\" else 0
            end += 1
        body = regex[match.end() : end - 1]
        value = str(uuid.uuid4()) if body == UUID else SAMPLE_VALUES.get(match.group(1), "sample")
        out += [regex[position : match.start()], value]
        position = end
    out.append(regex[position:])
    return "".join(out)


def sample_path(regexes: list[str]) -> str:
    """A concrete path matched by the chain of URL regexes (`^api/` + `^mocs/(?P<id>…)/?$`)."""
    text = "".join(_fill_groups(r.lstrip("^").removesuffix("$").removesuffix("/?")) for r in regexes)
    return "/" + re.sub(r"\\(.)", r"\1", text)


def served_paths(patterns, prefix: tuple[str, ...] = ()) -> list[str]:
    """One sample path per URL pattern of the app; the admin keeps Django's own behaviour (SPEC §2.1) and is left out."""
    paths = []
    for entry in patterns:
        regex = entry.pattern.regex.pattern
        if isinstance(entry, URLResolver):
            if regex.lstrip("^") == settings.ADMIN_URL:
                continue
            paths += served_paths(entry.url_patterns, (*prefix, regex))
        elif isinstance(entry, URLPattern):
            paths.append(sample_path([*prefix, regex]))
    return paths


@pytest.fixture
def every_route(tmp_path):
    """The URLconf of a process with file-system storage (every route mounted) and its sample paths."""
    file_system = {
        "STORAGE_BUCKET": None,
        "STORAGES": {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}},
        "MEDIA_ROOT": str(tmp_path),
    }
    with override_settings(**file_system):
        urlconf = _load_urlconf("lego_api_urls_every_route")
        with override_settings(ROOT_URLCONF=urlconf):
            yield served_paths(urlconf.urlpatterns)


def test_the_walk_reaches_every_kind_of_route(every_route):
    """Guards the walk itself: a sample path per pattern, each resolving, the non-API routes among them."""
    assert len(every_route) == len(set(every_route))
    for path in every_route:
        resolve(path)
    for expected in ("/", "/health", "/.well-known/jwks.json", "/api/csrf", "/api/schema", "/api/docs"):
        assert expected in every_route
    assert any(path.startswith("/local-uploads/") for path in every_route)
    assert any(path.startswith("/media/") for path in every_route)
    assert any(re.fullmatch(rf"/api/mocs/{UUID}/parts-lists/{UUID}/parts", path) for path in every_route)


def _allowed(response) -> set[str]:
    return {method.strip() for method in response["Allow"].split(",") if method.strip()}


@pytest.fixture
def browser():
    """A client that, like a browser, gets Django's own CSRF check (Django's test client skips it by default)."""
    return APIClient(enforce_csrf_checks=True)


@pytest.mark.django_db
def test_every_route_answers_every_method_it_does_not_serve_with_405(every_route, browser, token_for):
    """With a valid Bearer token (so auth and CSRF pass), each method is either served or 405 with `Allow`."""
    api = browser
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for('methods-user')}")
    for path in every_route:
        answers = {method: api.generic(method, path) for method in METHODS}
        served = {method for method, response in answers.items() if response.status_code != 405}
        assert served, f"{path} serves nothing"
        assert ("GET" in served) == ("HEAD" in served), f"{path}: HEAD is served exactly where GET is"
        for method, response in answers.items():
            where = f"{method} {path}"
            assert response.status_code < 500, where
            if method in served:
                if not NOT_ENVELOPED.match(path) and method != "HEAD":
                    assert response["Content-Type"].startswith("application/json"), where
                continue
            if method != "HEAD":  # a HEAD answer has no body to read
                assert_error(response, 405, "METHOD_NOT_ALLOWED")
            assert response["Content-Type"].startswith("application/json"), where
            assert _allowed(response) == served, where


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/health", "/.well-known/jwks.json", "/", "/api/csrf"])
def test_unsafe_methods_on_public_routes_are_405_not_a_csrf_page(browser, path, method):
    """The defect: Django's CSRF check answered these with its HTML 403 page."""
    response = browser.generic(method, path, b"x=1", content_type="application/x-www-form-urlencoded")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert _allowed(response) == {"GET", "HEAD"}


@pytest.mark.django_db
def test_anonymous_unsafe_method_on_a_get_only_api_route_is_401(browser):
    """§2.1: 401 (step 6) comes before 405 (step 7a) on routes that need a user."""
    response = browser.post("/api/mocs/stats/by-category")
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_cookie_write_without_csrf_token_on_a_get_only_route_is_403_csrf(browser, token_for):
    """§2.1: CSRF (step 7) comes before 405 (step 7a) too."""
    browser.cookies["token"] = token_for("cookie-user")
    response = browser.post("/api/mocs/stats/by-category")
    error = assert_error(response, 403, "FORBIDDEN", "CSRF validation failed")
    assert error["details"] == {"reason": "CSRF_FAILED"}


@pytest.mark.django_db
def test_bearer_unsafe_method_on_a_get_only_route_is_405(auth_client):
    response = auth_client("bearer-user").post("/api/mocs/stats/by-category")
    assert_error(response, 405, "METHOD_NOT_ALLOWED", 'Method "POST" not allowed')
    assert _allowed(response) == {"GET", "HEAD"}


def test_preflight_is_still_answered_by_cors(client):
    """OPTIONS with the preflight headers is CORS's (§2.1 step 2); only a bare OPTIONS is 405."""
    response = client.options(
        "/api/mocs", HTTP_ORIGIN="http://localhost:5173", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "http://localhost:5173"


def test_the_admin_keeps_djangos_csrf(browser):
    response = browser.post(f"/{settings.ADMIN_URL}login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
