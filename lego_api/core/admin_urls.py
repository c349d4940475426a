"""The admin site's URLs, imported on first use by `lego_api.core.lazy_admin.admin_urls()`: the apps' admin modules
are discovered first, so the site's URLs cover every registered model."""

from django.contrib import admin

from lego_api.core.lazy_admin import discover

discover()
urlpatterns = admin.site.get_urls()
