"""The MOC instructions app: MOCs and sets, their files, parts lists and parts."""

from django.apps import AppConfig


class MocsConfig(AppConfig):
    name = "mocs"
    verbose_name = "MOC instructions"

    def ready(self) -> None:
        from lego_api.core.search import register
        from mocs.search import MocSearchIndex

        register(MocSearchIndex())
