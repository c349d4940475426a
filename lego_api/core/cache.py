"""Response caching with per-user namespace versions (SPEC §6.1). The only code that builds cache keys.

A write bumps its family's counter `v:{family}:{uid}`; every cached key embeds the versions it depends on, so a
bump makes the old entries unreachable without any key scan. Redis failures never fail a request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from rest_framework.response import Response

from lego_api.core.envelope import success

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
    """A GET result as cached: `data`, the list meta (`total`, `page`, `limit`, `totalPages`) and the response
    headers that describe how it was computed (`X-Search-Backend`)."""

    data: Any
    meta: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def cache_get(key: str, *, owner: str) -> CachedResult | None:
    """A cached result, or None on a miss, an owner mismatch or a cache outage."""
    try:
        value = cache.get(key)
    except Exception:  # noqa: BLE001 - a broken cache is a miss
        logger.warning("cache read failed")
        return None
    if not isinstance(value, dict) or value.get("owner") != owner:
        return None
    return CachedResult(data=value["data"], meta=value.get("meta", {}), headers=value.get("headers", {}))


def cache_set(
    key: str,
    *,
    owner: str,
    data: Any,
    meta: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    ttl: int,
) -> None:
    try:
        cache.set(key, {"owner": owner, "data": data, "meta": meta or {}, "headers": headers or {}}, ttl)
    except Exception:  # noqa: BLE001 - not caching is always allowed
        logger.warning("cache write failed")


def response_key(
    name: str,
    user_id: str,
    versions: dict[str, int],
    *,
    families: Sequence[str],
    parts: Sequence[str] = (),
    params: dict[str, Any] | None = None,
) -> str:
    """`{name}:{uid}[:{part}...]:{v1}.{v2}...[:{h}]`, the key shapes of the SPEC §6.1 table, e.g.
    `mocs:list:{uid}:{vM}:{h}`, `mocs:detail:{uid}:{mocId}:{vM}.{vG}`, `mocs:stats:{uid}:{name}:{vM}`."""
    segments = [name, user_id, *parts, ".".join(str(versions[f]) for f in families)]
    if params is not None:
        segments.append(query_hash(params))
    return ":".join(segments)


def cached_result(
    *,
    name: str,
    user_id: str,
    families: Sequence[str],
    ttl: int,
    compute: Callable[[], CachedResult],
    parts: Sequence[str] = (),
    params: dict[str, Any] | None = None,
) -> tuple[CachedResult, bool]:
    """The cached result for this user and key, else `compute()` (stored for `ttl` seconds): `(result, hit)`.

    `compute` raises for anything but a success, so errors are never stored. Without a working cache the result
    is simply computed (degraded, SPEC §6.1).
    """
    versions = get_versions(user_id, *families)
    if versions is None:
        return compute(), False
    key = response_key(name, user_id, versions, families=families, parts=parts, params=params)
    found = cache_get(key, owner=user_id)
    if found is not None:
        return found, True
    result = compute()
    cache_set(key, owner=user_id, data=result.data, meta=result.meta, headers=result.headers, ttl=ttl)
    return result, False


def cached_success(
    *,
    name: str,
    user_id: str,
    families: Sequence[str],
    ttl: int,
    compute: Callable[[], CachedResult],
    parts: Sequence[str] = (),
    params: dict[str, Any] | None = None,
) -> Response:
    """A 200 success envelope served through the cache, with `X-Cache: HIT|MISS` (`timestamp` is always fresh:
    the renderer stamps it)."""
    result, hit = cached_result(
        name=name, user_id=user_id, families=families, ttl=ttl, compute=compute, parts=parts, params=params
    )
    response = success(result.data, **result.meta)
    for header, value in result.headers.items():
        response[header] = value
    response["X-Cache"] = "HIT" if hit else "MISS"
    return response
