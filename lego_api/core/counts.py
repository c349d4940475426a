"""A user's counts by name, as the profile's `stats` shows them (SPEC §3.12: `{mocs, images, albums, wishlistItems}`).

The app that owns the rows registers, in its AppConfig.ready(), one function per counter that counts a user's rows
(one COUNT query); profiles reads them through `user_counts()` and never imports the other apps. A counter no app
has registered counts 0.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

# SPEC §3.12's Profile.stats, in its order.
COUNTERS = ("mocs", "images", "albums", "wishlistItems")

UserCounter = Callable[..., int]  # called as count_for_user(user_id=...)
_counters: dict[str, UserCounter] = {}


def register_counter(name: str, count_for_user: UserCounter) -> None:
    """Count `name` for a user with `count_for_user(user_id=...)` (one COUNT query); each counter has one owner."""
    if name not in COUNTERS:
        raise ImproperlyConfigured(f"Unknown counter {name!r}; the profile's stats are {', '.join(COUNTERS)}")
    registered = _counters.setdefault(name, count_for_user)
    if registered is not count_for_user:
        raise ImproperlyConfigured(f"Counter {name!r} is already registered by {registered.__module__}")


def user_counts(user_id: str) -> dict[str, int]:
    """Every counter of SPEC §3.12 for the user, in its order; 0 for those no app registered."""
    return {name: (_counters[name](user_id=user_id) if name in _counters else 0) for name in COUNTERS}
