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
from lego_api.core.exceptions import MethodNotAllowed, ServiceUnavailable

MEMO_SECONDS = 10.0
_memo: dict[str, Any] = {"at": 0.0, "result": None}
_memo_lock = threading.Lock()


def check_database() -> None:
    # SET LOCAL only holds inside a transaction: without one the 2 s limit would be silently ignored.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 2000")
        cursor.execute("SELECT 1")


def check_cache() -> str | None:
    """'disabled' never: the local-memory cache is always up. Redis gets a real PING with a 2 s timeout."""
    if not settings.REDIS_URL:
        return None
    from django_redis import get_redis_connection

    get_redis_connection("default").ping()
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


def health_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(f'Method "{request.method}" not allowed', headers={"Allow": "GET, HEAD"})
    if request.GET.get("shallow", "").lower() in ("1", "true"):  # SPEC §1.4 query booleans
        return _json({"success": True, "data": {"status": "alive", "version": settings.APP_VERSION}})
    result = cached_checks()
    if result["status"] == "unhealthy":
        response = error_response(ServiceUnavailable("Database unavailable", details=result), request)
        response["Cache-Control"] = "no-store"
        return response
    return _json({"success": True, "data": result})
