"""App config for the shared core (envelope, errors, auth, rate limits, health, storage/cache/search helpers)."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "lego_api.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.conf import settings

        # The light DEFAULT_SCHEMA_CLASS; lego_api.core.openapi, which only a schema generation imports, registers the
        # OpenAPI authentication extension.
        from lego_api.core import schema  # noqa: F401

        if settings.XRAY_ENABLED:
            from lego_api.core import tracing

            tracing.install()

        from lego_api.core import snapstart

        snapstart.register()  # only on a SnapStart init (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start)
