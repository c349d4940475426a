"""Response caching with per-user namespace versions (SPEC §6.1). The only code that builds cache keys.

A write bumps its family's counter `v:{family}:{uid}`; every cached key embeds the versions it depends on, so a
bump makes the old entries unreachable without any key scan. Redis failures never fail a request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger("lego_api.cache")

VERSION_TTL = 7 * 24 * 3600
FAMILIES = ("mocs", "gallery", "wishlist", "profile")


def make_key(key: str, key_prefix: str, version: int) -> str:
    """Django KEY_FUNCTION: `lego:{ENVIRONMENT}:{key}` (no Django version segment)."""
    return f"{key_prefix}{key}"


def query_hash(params: dict[str, Any]) -> str:
    """`{h}`: the first 16 hex characters of the SHA-256 of the canonical query."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _version_key(family: str, user_id: str) -> str:
    return f"v:{family}:{user_id}"


def get_versions(user_id: str, *families: str) -> dict[str, int] | None:
    """Current counters for the families (a missing one starts at the current time in ms); None if cache is down."""
    keys = {_version_key(f, user_id): f for f in families}
    try:
        found = cache.get_many(list(keys))
    except Exception:  # noqa: BLE001 - local-memory never raises; Redis errors are swallowed by django-redis
        found = {}
    versions: dict[str, int] = {}
    for key, family in keys.items():
        value = found.get(key)
        if value is None:
            value = int(time.time() * 1000)
            if not cache.add(key, value, VERSION_TTL):
                value = cache.get(key)
                if value is None:
                    return None
        versions[family] = int(value)
    return versions


def bump(family: str, user_id: str) -> None:
    """Invalidate every cached entry of the user's family, after the transaction commits."""

    def _bump() -> None:
        key = _version_key(family, user_id)
        try:
            if cache.add(key, int(time.time() * 1000), VERSION_TTL):
                return
            cache.incr(key)
            cache.touch(key, VERSION_TTL)
        except ValueError:  # expired between add and incr
            cache.set(key, int(time.time() * 1000), VERSION_TTL)
        except Exception:  # noqa: BLE001
            logger.warning("cache bump failed", extra={"family": family})

    transaction.on_commit(_bump)


@dataclass(frozen=True)
class CachedResult:
    data: Any
    meta: dict[str, Any]


def cache_get(key: str, *, owner: str) -> CachedResult | None:
    """A cached result, or None on a miss, an owner mismatch or a cache outage."""
    value = cache.get(key)
    if not isinstance(value, dict) or value.get("owner") != owner:
        return None
    return CachedResult(data=value["data"], meta=value.get("meta", {}))


def cache_set(key: str, *, owner: str, data: Any, meta: dict[str, Any] | None = None, ttl: int) -> None:
    cache.set(key, {"owner": owner, "data": data, "meta": meta or {}}, ttl)
