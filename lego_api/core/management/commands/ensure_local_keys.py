"""`manage.py ensure_local_keys`: create the local issuer's key pair file if it does not exist yet."""

from django.conf import settings
from django.core.management.base import BaseCommand

from lego_api.core.jwt_keys import local_key


class Command(BaseCommand):
    help = "Create the local JWT key pair (LOCAL_JWT_KEY_FILE) when local auth is enabled."

    def handle(self, *args, **options):
        if not settings.LOCAL_AUTH_ENABLED:
            self.stdout.write("local auth disabled; nothing to do")
            return
        key = local_key()
        self.stdout.write(f"local issuer key ready (kid {key.kid})")
