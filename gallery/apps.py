"""The gallery app: its models and routes arrive with the gallery issue."""

from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"

    def ready(self) -> None:
        from lego_api.core.cache import register_family

        register_family("gallery")  # SPEC §6.1; the MOC detail key (M4) depends on it already
