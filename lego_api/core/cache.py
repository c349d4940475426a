"""Response caching with per-user namespace versions (SPEC §6.1). The only code that builds cache keys.

A write bumps its family's counter `v:{family}:{uid}`; every cached key embeds the versions it depends on, so a
bump makes the old entries unreachable without any key scan. Redis failures never fail a request.

Consistency under faults: versions are read and bumped through the `versions` cache alias, which raises (the
`default` alias ignores Redis errors), so a failed bump is seen and written to PostgreSQL as a debt
(`CacheDebt`). Each process reads the debts at most once a second while serving cached reads, reads past the cache
for users with a debt, and applies (bumps) and deletes them as soon as Redis answers. Redis calls time out after
250 ms and a circuit breaker (`redis_breaker`) skips Redis for 5 s after an error.

A hit costs little more than the request pipeline: the miss renders the envelope once (`SuccessBody`: `data` and the
list meta as JSON bytes up to `timestamp`) and stores those bytes with the owner id and the response headers; a hit
answers them with a fresh timestamp appended, without parsing or re-encoding anything. The versions and the entry
are read in one pipelined round trip, the entry's key guessed from the versions this process last read for the
user and checked against the versions read with it (a stale guess costs a second GET, never a stale answer).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache, caches
from django.db import DatabaseError, transaction
from rest_framework.response import Response

from lego_api.core import redis_breaker
from lego_api.core.envelope import SuccessBody
from lego_api.core.redis_breaker import REDIS_ERRORS

logger = logging.getLogger("lego_api.cache")

VERSION_TTL = 7 * 24 * 3600
VERSIONS_CACHE = "versions"  # the raising alias (settings CACHES)
DEBT_CHECK_SECONDS = 1.0


def make_key(key: str, key_prefix: str, version: int) -> str:
    """Django KEY_FUNCTION: `lego:{ENVIRONMENT}:{key}` (no Django version segment)."""
    return f"{key_prefix}{key}"


def query_hash(params: dict[str, Any]) -> str:
    """`{h}`: the first 16 hex characters of the SHA-256 of the canonical query."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# --- Families: each app registers its own in `AppConfig.ready()` (SPEC §6.1: mocs, gallery, wishlist, profile) ---

FAMILY_NAME = re.compile(r"[a-z][a-z0-9_]*")
_families: dict[str, None] = {}  # ordered as registered


class UnknownCacheFamily(LookupError):
    """A family no app registered. Refused rather than served: a misspelt family in a bump would leave the
    entries that depend on the real one stale until their TTL, and no test of the write would notice."""


def register_family(family: str) -> None:
    """Declare a family of namespace counters `v:{family}:{uid}` (idempotent)."""
    if not FAMILY_NAME.fullmatch(family):
        raise ValueError(f"cache family {family!r}: lower-case letters, digits and `_` only (keys join with : and .)")
    _families[family] = None


def registered_families() -> tuple[str, ...]:
    return tuple(_families)


def _check_families(families: Sequence[str]) -> None:
    if unknown := [f for f in families if f not in _families]:
        raise UnknownCacheFamily(f"unregistered cache families {unknown}; registered: {list(_families)}")


def _version_key(family: str, user_id: str) -> str:
    return f"v:{family}:{user_id}"


def _now_ms() -> int:
    return int(time.time() * 1000)


def get_versions(user_id: str, *families: str) -> dict[str, int] | None:
    """Current counters for the families (a missing one starts at the current time in ms); None if Redis fails.
    Raises UnknownCacheFamily for a family no app registered."""
    _check_families(families)
    store = caches[VERSIONS_CACHE]
    keys = {_version_key(f, user_id): f for f in families}
    versions: dict[str, int] = {}
    try:
        found = store.get_many(list(keys))
        for key, family in keys.items():
            value = found.get(key)
            if value is None:
                value = _now_ms()
                if not store.add(key, value, VERSION_TTL):
                    value = store.get(key)
                    if value is None:
                        return None
            versions[family] = int(value)
    except REDIS_ERRORS:  # logged by the breaker; the caller reads without the cache
        return None
    return versions


def _increment_version(family: str, user_id: str) -> None:
    """Bump one counter now; raises what Redis raises."""
    store = caches[VERSIONS_CACHE]
    key = _version_key(family, user_id)
    if store.add(key, _now_ms(), VERSION_TTL):
        return
    try:
        store.incr(key)
    except ValueError:  # expired between add and incr
        store.set(key, _now_ms(), VERSION_TTL)
        return
    store.touch(key, VERSION_TTL)


def bump(family: str, user_id: str) -> None:
    """Invalidate every cached entry of the user's family, after the transaction commits; a bump that Redis does
    not take becomes a debt. Raises UnknownCacheFamily at once (not after commit) for an unregistered family."""
    _check_families((family,))
    transaction.on_commit(lambda: _bump_or_record_debt(family, user_id))


def _bump_or_record_debt(family: str, user_id: str) -> None:
    try:
        _increment_version(family, user_id)
    except REDIS_ERRORS as error:
        logger.warning(
            "cache bump failed; recorded as a debt", extra={"family": family, "errorType": type(error).__name__}
        )
        _debts.record(user_id=user_id, family=family)


# --- Cache debts ------------------------------------------------------------------------------------------------


class _DebtCheck:
    """This process's view of the debts: the users owed a bump, refreshed from the table at most once a second."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._users: frozenset[str] = frozenset()
        self._recorded_since_check: set[str] = set()
        self._unwritten: set[tuple[str, str]] = set()  # debts the table refused: only this process knows them

    def record(self, *, user_id: str, family: str) -> None:
        from lego_api.core.models import CacheDebt

        try:
            CacheDebt.objects.create(user_id=user_id, family=family)
        except DatabaseError:
            # The write has committed and answers 2xx: at least this process still protects its owner.
            logger.exception("cache debt not recorded", extra={"family": family})
            with self._lock:
                self._unwritten.add((user_id, family))
        with self._lock:
            self._users = self._users | {user_id}
            self._recorded_since_check.add(user_id)

    def users(self) -> frozenset[str]:
        """Users whose cached entries may be stale; applies the debts first when it is time and Redis answers."""
        now = redis_breaker.clock()
        with self._lock:
            if self._checked_at is not None and now - self._checked_at < DEBT_CHECK_SECONDS:
                return self._users
            self._checked_at = now
            self._recorded_since_check = set()
            unwritten = set(self._unwritten)
        from lego_api.core.models import CacheDebt

        try:
            owed = list(CacheDebt.objects.values_list("pk", "user_id", "family"))
            owed += [(None, user_id, family) for user_id, family in unwritten]
            if owed and not redis_breaker.breaker.is_open:
                owed = self._apply(owed)
        except DatabaseError:
            logger.warning("cache debts not readable; keeping the last known ones")
            return self._users
        with self._lock:
            self._unwritten -= unwritten - {(user_id, family) for pk, user_id, family in owed if pk is None}
            self._users = (
                frozenset(user_id for _, user_id, _ in owed)
                | {user_id for user_id, _ in self._unwritten}
                | self._recorded_since_check
            )
            return self._users

    @staticmethod
    def _apply(owed: list[tuple[Any, str, str]]) -> list[tuple[Any, str, str]]:
        """Bump each owed (user, family) once and delete its rows; returns what is still owed."""
        from lego_api.core.models import CacheDebt

        grouped: dict[tuple[str, str], list[Any]] = {}
        for pk, user_id, family in owed:
            grouped.setdefault((user_id, family), []).append(pk)
        remaining: list[tuple[Any, str, str]] = []
        failed = False
        for (user_id, family), pks in grouped.items():
            if not failed:
                try:
                    _increment_version(family, user_id)
                except REDIS_ERRORS:
                    failed = True  # Redis stopped answering: the rest wait for a later check
                else:
                    if written := [pk for pk in pks if pk is not None]:
                        CacheDebt.objects.filter(pk__in=written).delete()
                    continue
            remaining.extend((pk, user_id, family) for pk in pks)
        if len(remaining) < len(owed):
            logger.info("cache debts applied", extra={"applied": len(owed) - len(remaining)})
        return remaining

    def reset(self) -> None:
        with self._lock:
            self._checked_at = None
            self._users = frozenset()
            self._recorded_since_check = set()
            self._unwritten = set()


_debts = _DebtCheck()


def users_with_debts() -> frozenset[str]:
    return _debts.users()


def reset_fault_state() -> None:
    """Forget the breaker and the debt check of this process (tests start from a clean slate)."""
    redis_breaker.breaker.reset()
    _debts.reset()
    _last_versions.clear()


@dataclass(frozen=True)
class CachedResult:
    """A GET result as computed: `data`, the list meta (`total`, `page`, `limit`, `totalPages`) and the response
    headers that describe how it was computed (`X-Search-Backend`). `cacheable=False` serves a degraded answer (one
    computed without a failing dependency, e.g. a profile without Cognito) without storing it."""

    data: Any
    meta: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    cacheable: bool = True


# The stored value: (ENTRY_FORMAT, owner id, the body rendered up to its timestamp, the headers as pairs). Anything
# else under a response key is a miss and is overwritten: the dicts `{owner, data, meta, headers}` of the format
# before (left in Redis by a deploy for at most a TTL), a value of a later format, a corrupt value. Old code reading
# this format sees no dict and misses too. Bump the tag whenever the tuple changes.
ENTRY_FORMAT = "r1"


@dataclass(frozen=True)
class Entry:
    """A 200 success as a hit serves it: the body's JSON up to `timestamp` (`SuccessBody.head`) and the headers
    describing how it was computed. Built once on the miss that stores it, and answered as is by every hit."""

    head: bytes
    headers: tuple[tuple[str, str], ...] = ()
    cacheable: bool = True

    @classmethod
    def of(cls, result: CachedResult) -> Entry:
        return cls(
            head=SuccessBody.of(result.data, **result.meta).head,
            headers=tuple(result.headers.items()),
            cacheable=result.cacheable,
        )


def _valid_entry(value: Any, owner: str) -> Entry | None:
    if not (type(value) is tuple and len(value) == 4 and value[0] == ENTRY_FORMAT and value[1] == owner):
        return None
    _, _, head, headers = value
    if not (type(head) is bytes and head.startswith(SuccessBody.PREFIX) and head.endswith(b",")):
        return None
    if type(headers) is not tuple or not all(
        type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is str for pair in headers
    ):
        return None
    return Entry(head=head, headers=headers)


def cache_get(key: str, *, owner: str) -> Entry | None:
    """The stored entry, or None on a miss, an owner mismatch, a value of another format or a cache outage."""
    try:
        value = cache.get(key)
    except Exception:  # noqa: BLE001 - a broken cache (or a value that does not unpickle) is a miss
        logger.warning("cache read failed")
        return None
    return _valid_entry(value, owner)


def cache_set(key: str, *, owner: str, entry: Entry, ttl: int) -> None:
    try:
        cache.set(key, (ENTRY_FORMAT, owner, entry.head, entry.headers), ttl)
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
    hashed: str | None = None,
) -> str:
    """`{name}:{uid}[:{part}...]:{v1}.{v2}...[:{h}]`, the key shapes of the SPEC §6.1 table, e.g.
    `mocs:list:{uid}:{vM}:{h}`, `mocs:detail:{uid}:{mocId}:{vM}.{vG}`, `mocs:stats:{uid}:{name}:{vM}`. `hashed` is
    `query_hash(params)` when the caller has it already."""
    segments = [name, user_id, *parts, ".".join(str(versions[f]) for f in families)]
    if hashed is None and params is not None:
        hashed = query_hash(params)
    if hashed is not None:
        segments.append(hashed)
    return ":".join(segments)


# The versions this process last read per (user, families): a guess at the entry's key, so that a hit reads the
# versions and the entry in one Redis round trip (`_pipelined_lookup`). A guess is only ever checked, never trusted.
_last_versions: dict[tuple[str, tuple[str, ...]], dict[str, int]] = {}
LAST_VERSIONS_MAX = 10_000  # per process; cleared when full


def _remember_versions(user_id: str, families: tuple[str, ...], versions: dict[str, int]) -> None:
    if len(_last_versions) >= LAST_VERSIONS_MAX:
        _last_versions.clear()
    _last_versions[(user_id, families)] = versions


def _redis_client(store: Any) -> Any | None:
    """The raw redis client of a django-redis alias; None for the local-memory cache."""
    client = getattr(store, "client", None)
    return client.get_client(write=False) if client is not None and hasattr(client, "get_client") else None


def _pipelined_lookup(
    user_id: str, families: tuple[str, ...], guess: dict[str, int], key_of: Callable[[dict[str, int]], str]
) -> tuple[dict[str, int], Entry | None] | None:
    """One round trip: MGET of the versions and GET of the entry under the key the guessed versions make. When the
    versions read are the guess, the entry read is the one they key (what reading them one after the other gives:
    a bump in between is not seen either way); else the entry read is dropped and the caller reads the right one.
    Returns (versions, entry or None), or None when Redis fails or a counter is missing (the caller's slow path)."""
    store = caches[VERSIONS_CACHE]
    client = _redis_client(store)
    if client is None:
        return None
    pipe = client.pipeline(transaction=False)
    pipe.mget([store.make_key(_version_key(family, user_id)) for family in families])
    pipe.get(store.make_key(key_of(guess)))
    raw_versions, raw_entry = pipe.execute()  # raises what Redis raises
    try:
        versions = {family: int(raw) for family, raw in zip(families, raw_versions, strict=True)}
    except (TypeError, ValueError):  # a counter missing (evicted) or not a number: get_versions decides
        return None
    if versions != guess or raw_entry is None:
        return versions, None
    try:
        value = store.client.decode(raw_entry)
    except Exception:  # noqa: BLE001 - a value that does not unpickle is a miss
        return versions, None
    return versions, _valid_entry(value, user_id)


def _lookup(
    user_id: str, families: tuple[str, ...], key_of: Callable[[dict[str, int]], str]
) -> tuple[str, Entry | None] | None:
    """The entry's key for the current versions, and the entry (None: a miss); None when Redis fails."""
    guess = _last_versions.get((user_id, families))
    if guess is not None:
        try:
            found = _pipelined_lookup(user_id, families, guess, key_of)
        except REDIS_ERRORS:  # logged by the breaker; the caller reads without the cache
            return None
        if found is not None:
            versions, entry = found
            if versions == guess:
                return key_of(versions), entry
            _remember_versions(user_id, families, versions)
            key = key_of(versions)
            return key, cache_get(key, owner=user_id)
    versions = get_versions(user_id, *families)
    if versions is None:
        return None
    _remember_versions(user_id, families, versions)
    key = key_of(versions)
    return key, cache_get(key, owner=user_id)


def cached_entry(
    *,
    name: str,
    user_id: str,
    families: Sequence[str],
    ttl: int,
    compute: Callable[[], CachedResult],
    parts: Sequence[str] = (),
    params: dict[str, Any] | None = None,
) -> tuple[Entry, bool]:
    """The stored entry for this user and key, else `compute()` rendered once (and stored for `ttl` seconds):
    `(entry, hit)`.

    `compute` raises for anything but a success, so errors are never stored; nor is a result it marks not
    `cacheable`. Without a working cache the result is simply computed (degraded, SPEC §6.1). An unregistered
    family raises UnknownCacheFamily, cache or not. A hit costs one Redis round trip (versions and entry
    pipelined) once this process has read the user's versions; two otherwise.
    """
    families = tuple(families)
    _check_families(families)
    if user_id in users_with_debts():
        # a bump is owed: any entry of this user may be stale, so neither read nor store
        return Entry.of(compute()), False
    # The versions are taken before compute() reads the database: a read that races a write stores its result
    # under the old key, which the write's bump has made unreachable.
    hashed = query_hash(params) if params is not None else None

    def key_of(versions: dict[str, int]) -> str:
        return response_key(name, user_id, versions, families=families, parts=parts, hashed=hashed)

    found = _lookup(user_id, families, key_of)
    if found is None:
        return Entry.of(compute()), False
    key, entry = found
    if entry is not None:
        return entry, True
    entry = Entry.of(compute())
    if entry.cacheable:
        cache_set(key, owner=user_id, entry=entry, ttl=ttl)
    return entry, False


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
    """A 200 success envelope served through the cache, with `X-Cache: HIT|MISS`. A hit answers the stored bytes
    with a fresh `timestamp` (the renderer appends it to `SuccessBody`); a miss answers the bytes it stored, so the
    two are the same response by construction."""
    entry, hit = cached_entry(
        name=name, user_id=user_id, families=families, ttl=ttl, compute=compute, parts=parts, params=params
    )
    response = Response(SuccessBody(entry.head), status=200)
    for header, value in entry.headers:
        response[header] = value
    response["X-Cache"] = "HIT" if hit else "MISS"
    return response
