"""Profile services: the authentication-time mirror of identity claims (SPEC §2.2 "Profile mirror")."""

from __future__ import annotations

from django.core.cache import cache
from django.db import IntegrityError, transaction

from lego_api.core.authentication import TokenUser
from profiles.models import Profile

SEEN_TTL = 24 * 3600


def _text_claim(claims: dict, name: str) -> str:
    """A claim's text, trimmed; anything but a string counts as absent."""
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def profile_mirror(*, user: TokenUser) -> None:
    """Make sure the caller's profile row exists, at most once per user per 24 h; fill empty email/name from an
    id token's claims. Never overwrites a value the row already has."""
    seen_key = f"profile:seen:{user.id}"
    if cache.get(seen_key):
        return
    claims = user.claims if user.token_use == "id" else {}
    email = _text_claim(claims, "email")[:254] or None
    name = _text_claim(claims, "name") or " ".join(
        filter(None, [_text_claim(claims, "given_name"), _text_claim(claims, "family_name")])
    )
    name = (name or "").strip()[:100] or None
    try:
        with transaction.atomic():
            profile, created = Profile.objects.get_or_create(user_id=user.id, defaults={"email": email, "name": name})
            if not created:
                changed = []
                if email and not profile.email:
                    profile.email = email
                    changed.append("email")
                if name and not profile.name:
                    profile.name = name
                    changed.append("name")
                if changed:
                    profile.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:  # a concurrent first request created it
        pass
    cache.set(seen_key, 1, SEEN_TTL)
