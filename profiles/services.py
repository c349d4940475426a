"""Profile services: the authentication-time mirror of identity claims (SPEC §2.2 "Profile mirror"), the profile
as U1/U2 show it (identity from Cognito or the row, live stats), renames (Cognito first, then the row) and the
admin's saves and deletes. Avatars are in `profiles.avatars`. Every write bumps the `profile` family after commit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from lego_api.core.authentication import TokenUser
from lego_api.core.cache import bump
from lego_api.core.counts import user_counts
from lego_api.core.exceptions import NotFound, ServiceUnavailable
from lego_api.core.updates import save_changes
from lego_api.core.uploads import delete_after_commit
from profiles import identity
from profiles.models import Profile

logger = logging.getLogger("lego_api.profiles")

SEEN_TTL = 24 * 3600
PROFILE_FAMILY = "profile"
MSG_USER_NOT_FOUND = "User not found"
MSG_IDENTITY_UNAVAILABLE = "Identity service unavailable"


def _seen_key(user_id: str) -> str:
    return f"profile:seen:{user_id}"


# The users this process found mirrored (the `profile:seen` flag set) in the last SEEN_HERE_SECONDS: the flag in the
# shared cache stays the record across processes (SPEC §2.2), this saves reading it on every request (one Redis round
# trip of the four a cached GET makes). A profile deleted through another process is mirrored again here within
# SEEN_HERE_SECONDS (its own process forgets at once); its row is made on demand by `profile_row` meanwhile.
SEEN_HERE_SECONDS = 60.0
SEEN_HERE_MAX = 10_000
_seen_here: dict[str, float] = {}


def _remember_seen(user_id: str) -> None:
    if len(_seen_here) >= SEEN_HERE_MAX:
        _seen_here.clear()  # a crude bound: forgetting costs one flag read per user
    _seen_here[user_id] = time.monotonic() + SEEN_HERE_SECONDS


def forget_seen(user_id: str | None = None) -> None:
    """Drop this process's memory of one user's (or, with no id, every user's) mirror."""
    if user_id is None:
        _seen_here.clear()
    else:
        _seen_here.pop(user_id, None)


def profile_mirror(*, user: TokenUser) -> None:
    """Make sure the caller's profile row exists, at most once per user per 24 h; fill empty email/name from an
    id token's claims. Never overwrites a value the row already has."""
    if _seen_here.get(user.id, 0.0) > time.monotonic():
        return
    seen_key = _seen_key(user.id)
    if cache.get(seen_key):
        _remember_seen(user.id)
        return
    claims = user.claims if user.token_use == "id" else {}
    email = identity.text_attribute(claims, "email")[:254] or None
    name = (identity.name_from_attributes(claims) or "")[:100].strip() or None
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
    _remember_seen(user.id)


def profile_row(user_id: str, *, lock: bool = False) -> Profile:
    """The user's row, made now if the mirror has not (or staff deleted it since); `lock` takes it FOR UPDATE (in a
    transaction)."""
    rows = Profile.objects.select_for_update() if lock else Profile.objects.all()
    row = rows.filter(user_id=user_id).first()
    if row is None:
        Profile.objects.bulk_create([Profile(user_id=user_id)], ignore_conflicts=True)
        row = rows.get(user_id=user_id)
    return row


# --- U1: the profile as shown -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileData:
    """SPEC §3.12 Profile: the row (id, avatar, timestamps), the identity's email and name, the live stats.
    `degraded`: Cognito failed and the row's email and name stand in (served, not cached)."""

    row: Profile
    email: str | None
    name: str | None
    stats: dict[str, int]
    degraded: bool = False


def profile_get(*, user_id: str) -> ProfileData:
    """U1. In Cognito mode, 404 `User not found` when Cognito does not know the user; any other Cognito failure is
    logged and the row's email and name are served. The stats are one COUNT per counter (`core.counts`)."""
    found: identity.Identity | None = None
    degraded = False
    if identity.cognito_enabled():
        try:
            found = identity.fetch_identity(user_id)
        except identity.UnknownUser:
            raise NotFound(MSG_USER_NOT_FOUND) from None
        except identity.IdentityUnavailable as error:
            logger.warning(
                "identity provider unavailable; profile row served", extra={"errorType": str(error), "userId": user_id}
            )
            degraded = True
    row = profile_row(user_id)
    return ProfileData(
        row=row,
        email=(found.email if found else None) or row.email,
        name=(found.name if found else None) or row.name,
        stats=user_counts(user_id),
        degraded=degraded,
    )


# --- U2 and the admin: writes -----------------------------------------------------------------------------------


def identity_set_name(*, user_id: str, name: str) -> None:
    """The identity half of a rename: in Cognito mode `AdminUpdateUserAttributes`, else nothing. 503 `Identity
    service unavailable` when Cognito fails, before anything else is written."""
    if not identity.cognito_enabled():
        return
    try:
        identity.update_name(user_id, name)
    except identity.IdentityUnavailable as error:
        logger.warning("identity provider refused a rename", extra={"errorType": str(error), "userId": user_id})
        raise ServiceUnavailable(MSG_IDENTITY_UNAVAILABLE) from None


def profile_save(*, user_id: str, changes: dict[str, str | None]) -> Profile:
    """The row half of a write: set `changes` (email, name) on the user's row; bump profile."""
    with transaction.atomic():
        row = profile_row(user_id, lock=True)
        save_changes(row, changes)
        bump(PROFILE_FAMILY, user_id)
    return row


def profile_rename(*, user_id: str, name: str) -> Profile:
    """U2: Cognito first (503 when it fails), then the row; bump profile."""
    identity_set_name(user_id=user_id, name=name)
    return profile_save(user_id=user_id, changes={"name": name})


def profile_delete(*, profile: Profile) -> None:
    """The admin's delete: the row, its avatar object after commit, and the mirror's 24 h flag (so the next request
    fills a new row from the token); bump profile. The identity-provider user is not touched."""
    user_id, avatar = profile.user_id, profile.avatar_url
    with transaction.atomic():
        profile.delete()
        delete_after_commit([avatar])  # nothing for no avatar; an absolute URL is not ours and is skipped
        bump(PROFILE_FAMILY, user_id)
        transaction.on_commit(lambda: (cache.delete(_seen_key(user_id)), forget_seen(user_id)))
