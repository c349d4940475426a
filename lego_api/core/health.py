"""C1 `GET /health`: per-component status and latency, and the healthy/degraded/unhealthy rule (SPEC §7.1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from lego_api.core.envelope import encode, error_response, finish_body
from lego_api.core.exceptions import ServiceUnavailable
from lego_api.core.views import allow_methods

MEMO_SECONDS = 10.0
CHECK_TIMEOUT_SECONDS = 2.0  # each check's budget (SPEC §7.1)
_memo: dict[str, Any] = {"at": 0.0, "result": None}
_memo_lock = threading.Lock()


def check_database() -> None:
    """`SELECT 1` on a connection of its own, in a thread that the check waits for at most 2 s.

    A stalled server (a partition, a paused process) never answers, and nothing on the client bounds a query on a
    socket that stays open: `statement_timeout` is enforced by the server itself. The thread, if stuck, finishes
    (and closes its connection) whenever the server answers or goes away.
    """
    outcome: list[BaseException | None] = []

    def select_one() -> None:
        try:
            # SET LOCAL only holds inside a transaction: without one the 2 s limit would be silently ignored.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = 2000")
                cursor.execute("SELECT 1")
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting check
            outcome.append(exc)
        finally:
            connection.close()  # this thread's own connection

    worker = threading.Thread(target=select_one, name="health-database", daemon=True)
    worker.start()
    worker.join(CHECK_TIMEOUT_SECONDS)
    if not outcome:
        raise TimeoutError(f"no answer from the database in {CHECK_TIMEOUT_SECONDS:g} s")
    if outcome[0] is not None:
        raise outcome[0]


def check_cache() -> str | None:
    """'disabled' never: the local-memory cache is always up. Redis gets a real PING on a client of its own, with
    the 2 s health budget and outside the circuit breaker, so it reports the real state (SPEC §6.1, §7.1)."""
    if not settings.REDIS_URL:
        return None
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return None


def _timed(check: Callable[[], Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
        result: dict[str, Any] = {"status": "up"}
    except Exception as exc:  # noqa: BLE001 - any failure marks the component down; only the class name is shown
        result = {"status": "down", "error": type(exc).__name__}
    result["latencyMs"] = round((time.perf_counter() - started) * 1000)
    return result


def run_checks() -> dict[str, Any]:
    from lego_api.core import search, storage

    components: dict[str, Any] = {"database": _timed(check_database)}
    components["cache"] = _timed(check_cache)
    components["search"] = (
        _timed(search.check_search) if search.search_enabled() else {"status": "disabled", "latencyMs": 0}
    )
    components["storage"] = _timed(storage.check_storage)
    if components["database"]["status"] == "down":
        status = "unhealthy"
    elif any(c["status"] == "down" for c in components.values()):
        status = "degraded"
    else:
        status = "healthy"
    return {
        "status": status,
        "version": settings.APP_VERSION,
        "environment": settings.ENVIRONMENT,
        "components": components,
    }


def cached_checks() -> dict[str, Any]:
    with _memo_lock:
        if _memo["result"] is not None and time.monotonic() - _memo["at"] < MEMO_SECONDS:
            return _memo["result"]
    result = run_checks()
    with _memo_lock:
        _memo.update(at=time.monotonic(), result=result)
    return result


def reset_memo() -> None:
    with _memo_lock:
        _memo.update(at=0.0, result=None)


def _json(body: dict[str, Any], status: int = 200) -> HttpResponse:
    response = HttpResponse(encode(finish_body(body)), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


@allow_methods("GET")
def health_view(request: HttpRequest) -> HttpResponse:
    if request.GET.get("shallow", "").lower() in ("1", "true"):  # SPEC §1.4 query booleans
        return _json({"success": True, "data": {"status": "alive", "version": settings.APP_VERSION}})
    result = cached_checks()
    if result["status"] == "unhealthy":
        response = error_response(ServiceUnavailable("Database unavailable", details=result), request)
        response["Cache-Control"] = "no-store"
        return response
    return _json({"success": True, "data": result})
