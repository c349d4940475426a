"""Test settings: the real settings, after the harness has started the services they point at."""

from tests import harness

harness.session()

from lego_api.settings import *  # noqa: E402,F403

ROOT_URLCONF = "tests.urls"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # admin users in tests; speed only
