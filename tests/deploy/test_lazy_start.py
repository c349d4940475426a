"""What a full cold start leaves to first use (issue 12 item 4), in the packaged function: drf-spectacular's generator
and views, the admin's modules and URLs, the static files' table. Each arrives with the first request that needs it,
and SnapStart's before-snapshot work (`lego_api.core.snapstart.warm_up`) brings them all in before the snapshot."""

from __future__ import annotations

import json
import re
from importlib import import_module

import pytest
from django.urls import resolve

from lego_api.core.routing import TEXT_SEGMENT, UUID
from tests.deploy.conftest import PackagedLambda, api_event, lambda_env, response_json

SPECTACULAR = ("django.test", "drf_spectacular.generators", "drf_spectacular.openapi", "lego_api.core.openapi")
SPECTACULAR_VIEWS = ("drf_spectacular.views",)
ADMIN = ("gallery.admin", "lego_api.core.admin_urls", "mocs.admin", "profiles.admin", "wishlist.admin")
WATCHED = SPECTACULAR + SPECTACULAR_VIEWS + ADMIN
MARKER = "LAZY-PROBE "
PROBE = f"""
import json, sys
from lego_api.core import static
print({MARKER!r} + json.dumps({{
    "modules": sorted(name for name in {list(WATCHED)!r} if name in sys.modules),
    "static_unread": any(middleware._pending for middleware in static._instances),
}}))
"""


def probe(runner: PackagedLambda) -> dict:
    invocation = runner.invoke({"raw_command": PROBE})
    assert invocation.ok, invocation.error
    return json.loads(next(line for line in invocation.logs if line.startswith(MARKER))[len(MARKER) :])


@pytest.fixture
def fresh(packaged_lambda, unzipped):
    """A new cold process of the packaged function (its database migrated by `packaged_lambda`)."""
    runner = PackagedLambda(unzipped, lambda_env())
    yield runner
    runner.close()


def test_a_cold_start_and_an_api_request_import_none_of_it(fresh, issuer):
    assert probe(fresh) == {"modules": [], "static_unread": True}
    listing = fresh.invoke(api_event("GET", "/api/mocs", token=issuer.token("lazy-start-user")))
    assert listing.result["statusCode"] == 200, listing.result
    assert response_json(listing)["success"] is True
    assert probe(fresh) == {"modules": [], "static_unread": True}


def test_each_arrives_with_the_first_request_that_needs_it(fresh):
    schema = fresh.invoke(api_event("GET", "/api/schema"))
    assert schema.result["statusCode"] == 200
    assert probe(fresh)["modules"] == []  # the built document: no generator

    login = fresh.invoke(api_event("GET", "/admin/login/"))
    assert login.result["statusCode"] == 200
    assert 'name="username"' in login.result["body"]
    assert probe(fresh) == {"modules": sorted(ADMIN), "static_unread": True}

    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]+\.css)"', login.result["body"])
    assert stylesheet is not None
    css = fresh.invoke(api_event("GET", stylesheet.group(1)))
    assert css.result["statusCode"] == 200
    assert probe(fresh)["static_unread"] is False

    docs = fresh.invoke(api_event("GET", "/api/docs"))
    assert docs.result["statusCode"] == 200
    assert probe(fresh)["modules"] == sorted(WATCHED)


def test_a_reverse_discovers_the_admin(fresh):
    """Django's reverse() reads every resolver, the admin's too (Swagger UI's page reverses the schema's URL)."""
    docs = fresh.invoke(api_event("GET", "/api/docs"))
    assert docs.result["statusCode"] == 200
    assert probe(fresh)["modules"] == sorted(WATCHED)


def test_the_admin_index_lists_every_app_discovered_on_first_use(fresh):
    """The admin's models are registered by the discovery its first request runs (a redirect to the login page
    for an anonymous visitor, whose `next` is the index)."""
    index = fresh.invoke(api_event("GET", "/admin/"))
    assert index.result["statusCode"] == 302
    assert probe(fresh)["modules"] == sorted(ADMIN)


def test_snapstart_warm_up_brings_everything_in_before_the_snapshot(fresh, issuer):
    warmed = fresh.invoke(
        {
            "raw_command": "import sys; from lego_api.core import snapstart; snapstart.warm_up(); sys._warmed = set(sys.modules)"
        }
    )
    assert warmed.ok, warmed.error
    assert probe(fresh) == {"modules": sorted(WATCHED), "static_unread": False}

    # The first request after it (a restored copy's) imports nothing of the project or of the libraries it serves with.
    listing = fresh.invoke(api_event("GET", "/api/mocs", token=issuer.token("lazy-warm-user")))
    assert listing.result["statusCode"] == 200
    ours = ("lego_api", "mocs", "gallery", "profiles", "wishlist", "rest_framework", "drf_spectacular", "django_redis")
    check = (
        f"import sys; print({MARKER!r} + repr(sorted(n for n in set(sys.modules) - sys._warmed "
        f"if n.split('.')[0] in {ours!r})))"
    )
    invocation = fresh.invoke({"raw_command": check})
    assert next(line for line in invocation.logs if line.startswith(MARKER)) == MARKER + "[]"


# --- Each app's routes through lego_api.urls (AppRoutes) ------------------------------------------------------------

SAMPLE_ID = "00000000-0000-4000-8000-000000000000"


def _sample_path(regex: str) -> str:
    """`^images/(?P<id>…uuid…)/flag/?$` -> `images/0000…/flag`."""
    path = regex.removeprefix("^").removesuffix("$").removesuffix("/?")
    path = re.sub(r"\(\?P<\w+>" + re.escape(UUID) + r"\)", SAMPLE_ID, path)
    return re.sub(r"\(\?P<\w+>" + re.escape(TEXT_SEGMENT) + r"\)", "some-user", path).replace("\\", "")


@pytest.mark.parametrize("app", ["mocs", "gallery", "profiles", "wishlist"])
def test_every_route_of_every_app_resolves_through_the_api_urls(app):
    """A segment missing from `app_routes(...)` would make its routes 404: each pattern of the app's own URL module
    must resolve, under /api/, to its own view."""
    patterns = import_module(f"{app}.urls").urlpatterns
    assert patterns
    for pattern in patterns:
        path = "/api/" + _sample_path(pattern.pattern.regex.pattern)
        match = resolve(path, urlconf="lego_api.urls")
        assert match.func is pattern.callback, path
        assert resolve(path + "/", urlconf="lego_api.urls").func is pattern.callback


def test_an_app_s_views_are_imported_by_its_own_first_request_only(fresh, issuer):
    views = [
        "gallery.views",
        "mocs.views.files",
        "mocs.views.links",
        "mocs.views.parts_lists",
        "profiles.views",
        "wishlist.views",
    ]
    check = f"import sys; print({MARKER!r} + repr(sorted(n for n in {views!r} if n in sys.modules)))"

    def imported() -> str:
        invocation = fresh.invoke({"raw_command": check})
        return next(line for line in invocation.logs if line.startswith(MARKER))[len(MARKER) :]

    token = issuer.token("lazy-apps-user")
    assert fresh.invoke(api_event("GET", "/api/mocs", token=token)).result["statusCode"] == 200
    assert imported() == "[]"
    assert fresh.invoke(api_event("GET", "/api/wishlist", token=token)).result["statusCode"] == 200
    assert imported() == "['wishlist.views']"
    # Within the MOC app, the files', links' and parts lists' views arrive with a route of theirs (LazyView).
    parts_lists = fresh.invoke(api_event("GET", f"/api/mocs/{SAMPLE_ID}/parts-lists", token=token))
    assert parts_lists.result["statusCode"] == 404  # no such MOC: the view ran
    assert imported() == "['mocs.views.parts_lists', 'wishlist.views']"
