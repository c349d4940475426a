"""`manage.py devtoken USER_ID`: print a token from the local dev issuer (SPEC §2.2). Refused in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lego_api.core.jwt_keys import mint_local_token


class Command(BaseCommand):
    help = "Print a signed RS256 token for USER_ID from the local dev issuer (never in production)."

    def add_arguments(self, parser):
        parser.add_argument("user_id")
        parser.add_argument("--email")
        parser.add_argument("--name")
        parser.add_argument("--token-use", choices=["id", "access"], default="id")
        parser.add_argument("--ttl", type=int, default=3600, help="seconds (default 3600)")

    def handle(self, *args, user_id: str, email=None, name=None, token_use="id", ttl=3600, **options):
        if settings.IS_PRODUCTION or not settings.LOCAL_AUTH_ENABLED:
            raise CommandError(
                "devtoken is refused: the local issuer is disabled (production or LOCAL_AUTH_ENABLED=false)"
            )
        if not user_id.strip() or len(user_id) > 255:
            raise CommandError("USER_ID must be 1-255 characters")
        if ttl < 1:
            raise CommandError("--ttl must be a positive number of seconds")
        self.stdout.write(mint_local_token(user_id, email=email, name=name, token_use=token_use, ttl=ttl))
