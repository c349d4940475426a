"""The rate limiter of SPEC §2.4: fixed windows in the shared cache, by user or IP, three categories.

`general` and `auth` go by path. Any other category is declared by the view that serves the request: a
`rate_limit_category` attribute on its class (every method it serves) or on one handler (`@limit_category("upload")`
on a viewset action, e.g. only `create`). The middleware resolves the path itself, before the body is read, the 401
and every other check (SPEC §2.1 step 5); an unknown path or a method the view does not serve has no such category.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest
from django.urls import resolve

logger = logging.getLogger("lego_api.ratelimit")

UPLOAD = "upload"

UNLIMITED_API = re.compile(r"^/api/(?:schema|docs)(?:/|$)")


@dataclass
class Window:
    category: str
    limit: int
    seconds: int
    count: int
    reset: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def parse_rate(value: str) -> tuple[int, int]:
    count, _, seconds = value.partition("/")
    return int(count), int(seconds)


def client_ip(request: HttpRequest) -> str:
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[0].strip()
    # On Lambda, API Gateway's own view of the caller; Zappa's REMOTE_ADDR comes from X-Forwarded-For instead.
    event = request.META.get("lambda.event")
    if isinstance(event, dict):
        source_ip = ((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp")
        if source_ip:
            return source_ip
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def limit_category[Handler: Callable[..., Any]](category: str) -> Callable[[Handler], Handler]:
    """Declare the rate-limit category of one view handler (e.g. a viewset's `create`), where the whole view's
    `rate_limit_category` attribute would cover methods that are not uploads."""

    def declare(handler: Handler) -> Handler:
        handler.rate_limit_category = category  # type: ignore[attr-defined]
        return handler

    return declare


def view_category(request: HttpRequest) -> str | None:
    """The category declared by the view that will serve this request: its handler's, else its class's."""
    try:
        match = resolve(request.path_info)
    except Http404:
        return None
    view_class = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    if view_class is None:
        return None
    method = (request.method or "").lower()
    actions = getattr(match.func, "actions", None)  # a DRF viewset: method -> action name
    handler = getattr(view_class, actions.get(method, "") if actions else method, None)
    if handler is None:
        return None  # a method the view does not serve: its 405 counts as general only
    return getattr(handler, "rate_limit_category", None) or getattr(view_class, "rate_limit_category", None)


def categories_for(request: HttpRequest) -> list[str]:
    path = request.path_info
    if (not path.startswith("/api/") and path != "/api") or UNLIMITED_API.match(path):
        return []
    found = ["general"]
    if path.startswith("/api/users/") or path == "/api/users":
        found.append("auth")
    declared = view_category(request)
    if declared is not None and declared not in found:
        found.append(declared)
    return found


def _rate_for(category: str) -> tuple[int, int]:
    return parse_rate(
        {
            "general": settings.RATE_LIMIT_GENERAL,
            "auth": settings.RATE_LIMIT_AUTH,
            UPLOAD: settings.RATE_LIMIT_UPLOAD,
        }[category]
    )


def _window(category: str, key: str, *, increment: bool) -> Window | None:
    limit, seconds = _rate_for(category)
    now = time.time()
    index = int(now // seconds)
    reset = max(1, math.ceil((index + 1) * seconds - now))
    cache_key = f"rl:{category}:{key}:{index}"
    try:
        if increment:
            cache.add(cache_key, 0, seconds + 1)
            count = cache.incr(cache_key)
        else:
            count = cache.get(cache_key, 0)
    except ValueError:  # the key expired between add and incr
        count = 1 if increment else 0
    except Exception:  # noqa: BLE001
        count = None
    if count is None:
        logger.warning("rate limit cache unavailable; request allowed", extra={"category": category})
        return None
    return Window(category=category, limit=limit, seconds=seconds, count=int(count), reset=reset)


@dataclass
class Decision:
    windows: list[Window]
    exceeded: Window | None


def check(request: HttpRequest, key: str) -> Decision | None:
    """Count the request in its categories (the auth category only looks); None when not limited."""
    if not settings.RATE_LIMIT_ENABLED:
        return None
    categories = categories_for(request)
    if not categories:
        return None
    windows = []
    exceeded = None
    for category in categories:
        window = _window(category, key, increment=category != "auth")
        if window is None:
            continue
        windows.append(window)
        over = window.count >= window.limit if category == "auth" else window.count > window.limit
        if over and (exceeded is None or window.reset > exceeded.reset):
            exceeded = window
    return Decision(windows=windows, exceeded=exceeded)


def record_auth_failure(request: HttpRequest, key: str, decision: Decision | None) -> None:
    """The auth category counts responses with status >= 400 (the limiter's own 429s excluded)."""
    if decision is None:
        return
    for window in decision.windows:
        if window.category == "auth":
            updated = _window("auth", key, increment=True)
            if updated is not None:
                window.count = updated.count


def headers_for(decision: Decision) -> dict[str, str]:
    if not decision.windows:
        return {}
    tightest = decision.exceeded or min(decision.windows, key=lambda w: (w.remaining, -w.reset))
    return {
        "RateLimit-Policy": f"{tightest.limit};w={tightest.seconds}",
        "RateLimit-Limit": str(tightest.limit),
        "RateLimit-Remaining": str(tightest.remaining),
        "RateLimit-Reset": str(tightest.reset),
    }
