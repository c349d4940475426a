"""Double-submit CSRF for cookie-authenticated unsafe requests, and C2 `GET /api/csrf` (SPEC §2.3)."""

from __future__ import annotations

import hmac
import re
from urllib.parse import urlsplit

from django.conf import settings

from lego_api.core.exceptions import Forbidden

CSRF_COOKIE = "XSRF-TOKEN"
CSRF_HEADER = "HTTP_X_CSRF_TOKEN"
CSRF_MAX_AGE = 7200
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_RE = re.compile(r"^[0-9a-f]{64}$")


def _origin(value: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(value)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port


def enforce_csrf(request) -> None:
    """Raise 403 unless a cookie-authenticated unsafe request passes the origin (production) and token checks."""
    meta = request.META
    if settings.IS_PRODUCTION:
        source = meta.get("HTTP_ORIGIN") or meta.get("HTTP_REFERER") or ""
        allowed = {_origin(o) for o in settings.CORS_ALLOWED_ORIGINS}
        origin = _origin(source) if source else None
        if origin is None or origin not in allowed:
            raise Forbidden("Invalid origin", details={"reason": "INVALID_ORIGIN"})
    header = meta.get(CSRF_HEADER, "")
    cookie = request.COOKIES.get(CSRF_COOKIE, "")
    if not header or not cookie or not hmac.compare_digest(header.encode(), cookie.encode()):
        raise Forbidden("CSRF validation failed", details={"reason": "CSRF_FAILED"})
