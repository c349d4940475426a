"""The Redis circuit breaker of SPEC §6.1 "Consistency under faults": after a Redis connection error or timeout the
process skips Redis for 5 s instead of paying the timeout on every call.

It sits under django-redis, in the connections of `BreakerConnectionPool` (settings `CACHES`), so every user of the
shared cache goes through it: the response cache and its versions, the rate limiter, the JWKS cache, the
`profile:seen` and `search:down` flags. A skipped call fails at once with `CircuitOpen` (a redis
`ConnectionError`), which the `default` cache turns into a miss or a no-op like any other outage. Health builds its
own client and never goes through it (SPEC §7.1).

`clock` is the monotonic time read by the breaker and by the cache-debt check; tests replace it instead of sleeping.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from redis.connection import Connection, ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("lego_api.cache")

OPEN_SECONDS = 5.0
# What a caller of the raising cache alias catches: anything redis raises, and socket errors it lets through.
REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)
# What opens the breaker: an unreachable or silent server, not a command error such as INCR on a string.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)

clock: Callable[[], float] = time.monotonic


class CircuitOpen(RedisConnectionError):
    """Redis was skipped: it failed less than `OPEN_SECONDS` ago."""


class Breaker:
    """Open for `OPEN_SECONDS` after each outage error; after that calls go through again, and the next failure
    reopens it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until: float | None = None
        self.failures = 0  # calls that reached Redis and failed
        self.skipped = 0  # calls refused without touching the network

    @property
    def is_open(self) -> bool:
        open_until = self._open_until
        return open_until is not None and clock() < open_until

    def before_call(self) -> None:
        if self.is_open:
            with self._lock:
                self.skipped += 1
            raise CircuitOpen(f"Redis skipped for up to {OPEN_SECONDS:g} s after an error")

    def record_failure(self, error: BaseException) -> None:
        with self._lock:
            self._open_until = clock() + OPEN_SECONDS
            self.failures += 1
        logger.warning(
            "Redis unavailable; the cache is skipped for %g s",
            OPEN_SECONDS,
            extra={"errorType": type(error).__name__},
        )

    def reset(self) -> None:
        with self._lock:
            self._open_until = None
            self.failures = 0
            self.skipped = 0


breaker = Breaker()


class BreakerConnectionMixin:
    """Checks the breaker before a connection is handed out or written to, and opens it on an outage error."""

    def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        # ConnectionPool.get_connection() calls this on every checkout, so an open breaker refuses even a pooled
        # connection before anything is sent.
        breaker.before_call()
        with _recording_outages():
            super().connect_check_health(*args, **kwargs)  # type: ignore[misc]

    def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
        breaker.before_call()
        with _recording_outages():
            super().send_packed_command(*args, **kwargs)  # type: ignore[misc]

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        with _recording_outages():
            return super().read_response(*args, **kwargs)  # type: ignore[misc]


@contextlib.contextmanager
def _recording_outages() -> Iterator[None]:
    try:
        yield
    except CircuitOpen:
        raise
    except OUTAGE_ERRORS as error:
        # A failed connect inside send_packed_command passes through two of these blocks: count it once.
        if not getattr(error, "_breaker_recorded", False):
            error._breaker_recorded = True  # type: ignore[attr-defined]
            breaker.record_failure(error)
        raise


@functools.cache
def with_breaker(connection_class: type) -> type:
    """`connection_class` (plain, TLS or Unix socket, as the URL chose) behind the breaker."""
    if issubclass(connection_class, BreakerConnectionMixin):
        return connection_class
    return type(f"Breaker{connection_class.__name__}", (BreakerConnectionMixin, connection_class), {})


class BreakerConnectionPool(ConnectionPool):
    """django-redis `CONNECTION_POOL_CLASS`: the URL's connection class, behind the breaker."""

    def __init__(self, connection_class: type = Connection, *args: Any, **kwargs: Any) -> None:
        super().__init__(with_breaker(connection_class), *args, **kwargs)
