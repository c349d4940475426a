"""The gallery app: its models and routes arrive with the gallery issue."""

from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"
