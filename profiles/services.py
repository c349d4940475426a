"""Profile services: the authentication-time mirror of identity claims (SPEC §2.2 "Profile mirror")."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

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
    # INSERT ... ON CONFLICT DO NOTHING: a user's parallel first requests all get here, and a row another one made
    # first is what we wanted, not an error. The fills are conditional UPDATEs, so no stale read overwrites a value.
    Profile.objects.bulk_create([Profile(user_id=user.id, email=email, name=name)], ignore_conflicts=True)
    claimed = {column: value for column, value in (("email", email), ("name", name)) if value}
    if claimed:
        empty = Q()
        for column in claimed:
            empty |= Q(**{f"{column}__isnull": True}) | Q(**{column: ""})
        Profile.objects.filter(empty, user_id=user.id).update(
            **{column: Coalesce(NullIf(F(column), Value("")), Value(value)) for column, value in claimed.items()},
            updated_at=timezone.now(),
        )
    cache.set(seen_key, 1, SEEN_TTL)
