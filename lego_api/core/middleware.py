"""Request pipeline middleware (SPEC §2.1): request id, logging and security headers; then the API gate
(authentication attempt, rate limits, body cap)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from lego_api.core import metrics, ratelimit
from lego_api.core.authentication import auth_result_for
from lego_api.core.envelope import error_response
from lego_api.core.errors import django_error_response
from lego_api.core.exceptions import PayloadTooLarge, TooManyRequests

request_logger = logging.getLogger("lego_api.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Origin-Agent-Cluster": "?1",
    "X-DNS-Prefetch-Control": "off",
    "X-Download-Options": "noopen",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
}
HSTS = "max-age=31536000; includeSubDomains"
# A form posted from a `no-referrer` page carries `Origin: null`, which Django's CSRF check refuses, so the
# admin's own forms would never submit. `same-origin` still sends nothing to other sites.
ADMIN_REFERRER_POLICY = "same-origin"


def pick_request_id(request: HttpRequest) -> str:
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    if _REQUEST_ID.match(incoming):
        return incoming
    event = request.META.get("lambda.event") or {}
    gateway_id = (event.get("requestContext") or {}).get("requestId") if isinstance(event, dict) else None
    return gateway_id or str(uuid.uuid4())


class RequestContextMiddleware:
    """Outermost: every response, errors included, gets the request id, the security headers and one log line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request.request_id = pick_request_id(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        for name, value in SECURITY_HEADERS.items():
            response[name] = value
        if request.path_info.startswith(f"/{settings.ADMIN_URL}"):
            response["Referrer-Policy"] = ADMIN_REFERRER_POLICY
        if settings.IS_PRODUCTION:
            response["Strict-Transport-Security"] = HSTS
        if request.path_info.startswith("/api"):
            response["Cache-Control"] = "no-store"
        for header in ("Server", "X-Powered-By"):
            if header in response:
                del response[header]
        if "Allow" in response:
            # DRF lists OPTIONS, but OPTIONS is only ever answered as a CORS preflight (before routing, §2.1 step 2);
            # a bare OPTIONS is 405 like any method not served, so `Allow` lists only what is served (step 7a).
            response["Allow"] = ", ".join(m for m in map(str.strip, response["Allow"].split(",")) if m != "OPTIONS")
        self._log(request, response, started)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse:
        """Plain Django views (health, local uploads) raise ApiError or worse; both leave as the envelope."""
        return django_error_response(exception, request)

    @staticmethod
    def _log(request: HttpRequest, response: HttpResponse, started: float) -> None:
        path = request.path_info
        if path.startswith("/health") or path.startswith("/static/"):
            level = logging.DEBUG if response.status_code < 500 else logging.ERROR
        else:
            level = logging.INFO if response.status_code < 500 else logging.ERROR
            latency = round((time.perf_counter() - started) * 1000, 1)
            metrics.emit(
                "RequestLatency",
                latency,
                unit="Milliseconds",
                properties={"method": request.method, "status": response.status_code, "requestId": request.request_id},
            )
        if not request_logger.isEnabledFor(level):
            return
        result = getattr(request, "auth_result", None)
        fields = {
            "requestId": request.request_id,
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "durationMs": round((time.perf_counter() - started) * 1000, 1),
            "userId": result.user.id if result is not None and result.user is not None else None,
        }
        error_type = getattr(response, "error_type", None)
        if error_type:
            fields["errorType"] = error_type
        request_logger.log(level, "request", extra=fields)


class ApiGateMiddleware:
    """For `/api`: the authentication attempt, the rate limits and the request body cap, before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/api"):
            return self.get_response(request)
        result = auth_result_for(request)
        key = f"user:{result.user.id}" if result.user is not None else f"ip:{ratelimit.client_ip(request)}"
        decision = ratelimit.check(request, key)
        if decision is not None and decision.exceeded is not None:
            window = decision.exceeded
            response = error_response(
                TooManyRequests(
                    details={"category": window.category, "retryAfter": window.reset},
                    headers={"Retry-After": str(window.reset)},
                ),
                request,
            )
        else:
            if result.user is not None and self._declared_length(request) > settings.REQUEST_BODY_MAX_BYTES:
                # Refused before anything reads the body, yet after the limits have counted it; a caller without a
                # valid credential gets its 401 first (SPEC §2.1), which like an unknown route's 404 reads no body.
                response = error_response(PayloadTooLarge(), request)
            else:
                response = self.get_response(request)
            if response.status_code >= 400:
                ratelimit.record_auth_failure(request, key, decision)
        if decision is not None:
            for name, value in ratelimit.headers_for(decision).items():
                response[name] = value
        return response

    @staticmethod
    def _declared_length(request: HttpRequest) -> int:
        try:
            return int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return 0
