"""Top-level URLs: the index, health, JWKS, CSRF, OpenAPI, the apps' API routes, local uploads and the admin.

The OpenAPI routes and the admin import their machinery on first use (`lego_api.core.schema`,
`lego_api.core.lazy_admin`): a cold start does not pay for them."""

from django.conf import settings
from django.urls import include, re_path

from lego_api.core.health import health_view
from lego_api.core.lazy_admin import admin_urls
from lego_api.core.local_uploads import local_upload
from lego_api.core.media import media_file
from lego_api.core.routing import route
from lego_api.core.schema import docs_view, schema_view
from lego_api.core.views import csrf_token_view, index_view

urlpatterns = [
    route("", index_view, "index"),
    route("health", health_view, "health"),
    route("api/csrf", csrf_token_view, "csrf"),
    route("api/schema", schema_view, "schema"),
    route("api/docs", docs_view, "swagger-ui"),
    re_path(r"^api/", include("mocs.urls")),
    re_path(r"^api/", include("gallery.urls")),
    re_path(r"^api/", include("profiles.urls")),
    re_path(r"^api/", include("wishlist.urls")),
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
