"""SnapStart (Lambda python3.13, API stages): what runs before the snapshot and after each restore.

Lambda initializes the published version once, snapshots the process, and starts every later instance from a copy
of that snapshot. So the init must leave nothing in the snapshot that cannot be shared or that goes stale:

- before the snapshot (`before_snapshot`): finish the expensive work that is safe to copy (URL resolvers, views,
  serializers), then close every socket: database connections, Redis pools, the OpenSearch, S3 and Lambda clients,
  the X-Ray emitter's UDP socket (made again after the restore), and collect the garbage that may still hold one.
  No thread of ours may be left running;
- after a restore (`after_restore`): reseed `random` (nothing of ours draws from it, ids come from `os.urandom`,
  but a library might), re-read the SECRETS_ID secret and overwrite the variables that came from it (a rotated
  password or key applies without a new snapshot), apply them to `django.conf.settings`, and drop every cached
  client and the JWKS ages so that they are built again from the new settings. Lambda gives the after-restore hooks
  10 seconds in all: the secret is fetched with short timeouts, and on failure the snapshot's values stay (logged).

`register()` puts them in `snapshot_restore_py`'s registries; Zappa's handler runs them through the runtime. It is
called from `CoreConfig.ready()` only when Lambda says the init is a SnapStart one
(`AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`): locally and in tests nothing is registered, and the hooks run only
where a test calls them.
"""

from __future__ import annotations

import gc
import logging
import os
import random
import socket
import threading
from typing import Any

logger = logging.getLogger("lego_api.snapstart")

SNAPSTART_INIT = "snap-start"
# The after-restore budget is 10 s for all hooks: two attempts of at most 1.5 s to connect and 2 s to read.
SECRET_CONNECT_TIMEOUT = 1.5
SECRET_READ_TIMEOUT = 2.0
SECRET_MAX_ATTEMPTS = 2

_registered = False


def is_snapstart_init() -> bool:
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == SNAPSTART_INIT


def register() -> bool:
    """Register the hooks once (only on a SnapStart init); True when they are registered."""
    global _registered
    if _registered or not is_snapstart_init():
        return _registered
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    _registered = True
    return True


# --- Before the snapshot --------------------------------------------------------------------------------------


def before_snapshot() -> None:
    warm_up()
    close_connections()
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
    if others:
        logger.warning("threads still running at the snapshot: %s", ", ".join(others))


def warm_up() -> None:
    """Work a first request would otherwise do, and that is the same in every instance: the URL resolver (which
    imports every view and serializer module), the views' serializers' fields, and what a full cold start leaves to
    first use (lego_api.core.lazy_admin, lego_api.core.schema, lego_api.core.static): the admin's modules and URLs
    (walking the resolvers below imports them), the OpenAPI document and drf-spectacular's views, the static files'
    table. A restored copy pays for none of it."""
    from django.urls import get_resolver

    from lego_api.core import schema, static

    resolver = get_resolver()
    resolver._populate()  # what the first resolve() does
    schema.warm_up()
    static.read_all()
    _import_request_backends()
    for pattern in _url_patterns(resolver.url_patterns):  # every resolver's URL module, the admin's included
        view = getattr(pattern.callback, "cls", None)
        serializer_class = getattr(view, "serializer_class", None)
        if serializer_class is not None:
            try:
                serializer_class().fields  # noqa: B018 - builds and caches the declared fields
            except Exception:  # a serializer that needs a context is simply left for the request
                logger.debug("serializer %s not warmed", serializer_class, exc_info=True)


def _import_request_backends() -> None:
    """The backends every request builds on first use: the caches (django-redis's client, no connection yet: the
    pools connect on the first command, after the restore) and the messages middleware's storage."""
    from django.conf import settings
    from django.core.cache import caches
    from django.utils.module_loading import import_string

    for alias in settings.CACHES:
        getattr(caches[alias], "client", None)  # django-redis builds its client (serializer, compressor) on first use
    import_string(settings.MESSAGE_STORAGE)


def _url_patterns(patterns) -> list[Any]:
    found: list[Any] = []
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            found.extend(_url_patterns(pattern.url_patterns))
        else:
            found.append(pattern)
    return found


def close_connections() -> None:
    """Close every connection and pool the process holds, and forget the clients that own them."""
    from django.db import connections

    connections.close_all()
    _close_caches()
    forget_clients()
    emitter = _xray_emitter()
    if emitter is not None:
        emitter._socket.close()  # its UDP socket to the daemon: a new one after the restore
    gc.collect()  # clients dropped above (and the secret's) close their sockets when collected


def _close_caches() -> None:
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        client = getattr(cache, "client", None)  # django-redis
        clients = getattr(client, "_clients", None) or []
        for redis_client in clients:
            if redis_client is not None:
                redis_client.connection_pool.disconnect()
        cache.close()
    try:
        from django_redis.pool import ConnectionFactory
    except ImportError:
        return
    for pool in ConnectionFactory._pools.values():  # django-redis keeps one pool per URL here
        pool.disconnect()


def forget_clients() -> None:
    """Drop the cached OpenSearch, S3 (storage), Lambda clients, the JWKS copies and the time-based state (health
    memo, Redis circuit breaker, the cache-debt check's last time): built again on next use."""
    from django.conf import settings

    from lego_api.core import cache, health, jwt_keys, search, storage, tasks

    if search.client._client_for.cache_info().currsize and settings.OPENSEARCH_URL:
        search.get_client().close()
    if tasks.lambda_client.cache_info().currsize:
        tasks.lambda_client().close()
    # Clients of other configurations (tests) are only dropped: their sockets close when collected.
    search.client._client_for.cache_clear()
    tasks.lambda_client.cache_clear()
    storage.reset_connections()  # the S3 storages (django-storages) and their boto3 clients, made again on next use
    jwt_keys._remote_jwks.clear()  # keys and their load times are fetched again
    # Time-based state: a memoized health result, an open Redis circuit and the time of the last cache-debt check
    # are about the snapshot's moment (a restored monotonic clock need not be later than it).
    health._memo.update(at=0.0, result=None)
    cache.reset_fault_state()


def _xray_emitter():
    """The X-Ray SDK's UDP emitter when tracing is on (XRAY_ENABLED), else None."""
    from django.conf import settings

    if not settings.XRAY_ENABLED:
        return None
    from aws_xray_sdk.core import xray_recorder

    emitter = getattr(xray_recorder, "emitter", None)
    return emitter if hasattr(emitter, "_socket") else None


# --- After a restore ------------------------------------------------------------------------------------------


def after_restore() -> None:
    random.seed()  # from os.urandom: a restored copy must not replay the snapshot's sequence
    emitter = _xray_emitter()
    if emitter is not None:
        emitter._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # as UDPEmitter makes it
        emitter._socket.setblocking(False)
    reload_secrets()
    forget_clients()


def reload_secrets() -> dict[str, str]:
    """Fetch the SECRETS_ID secret again, overwrite the variables it set (never those set on the function) and apply
    them to the settings; returns what changed. On failure the snapshot's values stay."""
    from django.conf import settings

    from lego_api.core import secrets

    secrets_id = os.environ.get("SECRETS_ID")
    if not secrets_id:
        return {}
    try:
        changed = secrets.reload_secrets_into_environ(
            secrets_id, timeouts=(SECRET_CONNECT_TIMEOUT, SECRET_READ_TIMEOUT, SECRET_MAX_ATTEMPTS)
        )
    except Exception:  # noqa: BLE001 - a restore must not fail for it: the snapshot's values are still valid
        logger.warning("re-reading the secret %s after a restore failed; keeping the snapshot's values", secrets_id)
        return {}
    apply_to_settings(settings, changed)
    return changed


def apply_to_settings(settings, changed: dict[str, str]) -> None:
    """Carry changed variables into the settings the process already computed from them."""
    if "SECRET_KEY" in changed:
        settings.SECRET_KEY = changed["SECRET_KEY"]
    if "DATABASE_URL" in changed:
        import dj_database_url
        from django.db import connections

        parsed = dj_database_url.parse(changed["DATABASE_URL"])
        connections.close_all()
        # In place: the connection handler and every connection share this dict.
        for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
            settings.DATABASES["default"][key] = parsed.get(key, "")
    if "REDIS_URL" in changed and settings.REDIS_URL:
        from django.core.cache import caches

        _close_caches()
        settings.REDIS_URL = changed["REDIS_URL"]
        for alias, config in settings.CACHES.items():
            config["LOCATION"] = changed["REDIS_URL"]
            try:
                delattr(caches._connections, alias)  # built again from the new LOCATION
            except AttributeError:
                pass
    if "OPENSEARCH_URL" in changed:
        settings.OPENSEARCH_URL = changed["OPENSEARCH_URL"]
