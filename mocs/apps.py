"""The MOC instructions app: MOCs and sets, their files, parts lists and parts."""

from django.apps import AppConfig


class MocsConfig(AppConfig):
    name = "mocs"
    verbose_name = "MOC instructions"
