"""Top-level URLs: the index, health, JWKS, CSRF, OpenAPI, the apps' API routes, local uploads and the admin.

The OpenAPI routes and the admin import their machinery on first use (`lego_api.core.schema`,
`lego_api.core.lazy_admin`), and each app's URL module (its views and serializers) is imported on the first request
for one of its routes (`AppRoutes`): a cold start pays for the app its first request needs only."""

import re

from django.conf import settings
from django.urls import URLResolver, re_path
from django.urls.resolvers import RegexPattern

from lego_api.core.health import health_view
from lego_api.core.lazy_admin import admin_urls
from lego_api.core.local_uploads import local_upload
from lego_api.core.media import media_file
from lego_api.core.routing import route
from lego_api.core.schema import docs_view, schema_view
from lego_api.core.views import csrf_token_view, index_view


class AppRoutes(RegexPattern):
    """`^api/` for one app's routes, matching only a path whose next segment is one of the app's own (`segments`):
    the resolver then looks inside (and imports) an app's URL module only for that app's requests. The regex text
    stays `^api/`, which is what reverse() and the OpenAPI generator read."""

    def __init__(self, segments: tuple[str, ...]) -> None:
        super().__init__(r"^api/", is_endpoint=False)
        self.segments = segments
        self._next_segment = re.compile(rf"(?:{'|'.join(map(re.escape, segments))})(?:/|$)")

    def match(self, path: str):
        found = super().match(path)
        if found is None or not self._next_segment.match(found[0]):
            return None
        return found


def app_routes(urlconf: str, *segments: str) -> URLResolver:
    """`re_path(r"^api/", include(urlconf))` for the routes under these first segments, the module imported on first
    use (`include()` would import it now). tests/deploy/test_lazy_start.py checks that every route of every app
    resolves through these."""
    return URLResolver(AppRoutes(segments), urlconf)


urlpatterns = [
    route("", index_view, "index"),
    route("health", health_view, "health"),
    route("api/csrf", csrf_token_view, "csrf"),
    route("api/schema", schema_view, "schema"),
    route("api/docs", docs_view, "swagger-ui"),
    app_routes("mocs.urls", "mocs"),
    app_routes("gallery.urls", "images", "flag", "albums", "gallery"),
    app_routes("profiles.urls", "users"),
    app_routes("wishlist.urls", "wishlist"),
    admin_urls(settings.ADMIN_URL),
]

if settings.LOCAL_AUTH_ENABLED:
    from lego_api.core.views import jwks_view

    urlpatterns.append(route(r"\.well-known/jwks\.json", jwks_view, "jwks"))

# File-system storage's stand-ins for S3: C5 uploads and `/media/` reads (SPEC §5.3), mounted only without a bucket.
file_storage_urlpatterns = [
    re_path(r"^local-uploads/(?P<token>[^/]+)/?$", local_upload, name="local-upload"),
    re_path(r"^media/(?P<path>.*)$", media_file, name="media"),
]
if not settings.STORAGE_BUCKET:
    urlpatterns += file_storage_urlpatterns

handler400 = "lego_api.core.errors.handler400"
handler403 = "lego_api.core.errors.handler403"
handler404 = "lego_api.core.errors.handler404"
handler500 = "lego_api.core.errors.handler500"
