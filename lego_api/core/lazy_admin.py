"""The Django admin (SPEC §7.2), served by the API function, with its modules imported on first use.

Django's AdminConfig imports every app's `admin` module at start (`autodiscover`), and with them the services the
admin actions call: work every cold start paid for a page staff open now and then. Here the app config is Django's
`SimpleAdminConfig` (no autodiscovery at start), and `admin_urls()` mounts the admin through a resolver whose URL
module (`lego_api.core.admin_urls`) discovers the admin modules and builds the site's URLs when Django first looks
inside it: the first request under ADMIN_URL, or a `reverse()` of an admin URL. The system checks discover first too,
so `manage.py check` still checks every ModelAdmin. SnapStart's before-snapshot hook populates the URL resolver,
which imports them before the snapshot.
"""

from __future__ import annotations

from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks
from django.urls import URLResolver
from django.urls.resolvers import RegexPattern

ADMIN_URLCONF = "lego_api.core.admin_urls"


class AdminConfig(SimpleAdminConfig):
    """`django.contrib.admin` (same label, site and checks) without the autodiscovery at start."""

    def ready(self) -> None:
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_discovered_admin, checks.Tags.admin)


def discover() -> None:
    """Import every app's `admin` module (registering its ModelAdmins); later calls find them imported."""
    from django.contrib import admin

    admin.autodiscover()


def check_discovered_admin(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Django's ModelAdmin checks, after the discovery they would otherwise run before."""
    discover()
    return check_admin_app(app_configs, **kwargs)


def admin_urls(prefix: str) -> URLResolver:
    """What `re_path(prefix, admin.site.urls)` mounts (namespace and app name `admin`), its URL module imported
    only when a request or a reverse() first needs it (`include()` would import it now)."""
    return URLResolver(RegexPattern(rf"^{prefix}"), ADMIN_URLCONF, app_name="admin", namespace="admin")
