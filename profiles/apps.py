"""The profiles app: the profile mirror of Cognito users (SPEC §2.2, §3.10)."""

from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"
