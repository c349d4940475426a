"""The one exception handler: every error leaves as the SPEC §1.1 envelope with a `requestId` (no traces, no SQL)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as drf
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import set_rollback

from lego_api.core import exceptions as api
from lego_api.core.casing import to_camel
from lego_api.core.envelope import error_body, error_response

logger = logging.getLogger("lego_api.errors")

# Database constraint name -> 409 message, registered by the apps that own the constraints (SPEC §3.0).
CONFLICT_MESSAGES: dict[str, str] = {}


def register_conflict(constraint_name: str, message: str) -> None:
    CONFLICT_MESSAGES[constraint_name] = message


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail -> `{dotted.camelCase.path: [messages]}` (SPEC §1.1 `details.fields`)."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "nonFieldErrors" if key in ("non_field_errors", "__all__") else to_camel(str(key))
            for path, messages in flatten_errors(value, f"{prefix}.{name}" if prefix else name).items():
                fields.setdefault(path, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            fields[prefix or "nonFieldErrors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    fields.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        fields[prefix or "nonFieldErrors"] = [str(detail)]
    return fields


def _is_multipart_view(context: dict) -> bool:
    view = context.get("view")
    parsers = getattr(view, "parser_classes", ()) or ()
    return any(issubclass(p, MultiPartParser) for p in parsers)


def to_api_error(exc: BaseException, context: dict | None = None) -> api.ApiError:
    """Map any exception to the ApiError that describes it to the client."""
    context = context or {}
    if isinstance(exc, api.ApiError):
        return exc
    if isinstance(exc, drf.ValidationError):
        return api.ValidationFailed(fields=flatten_errors(exc.detail))
    if isinstance(exc, drf.NotAuthenticated):
        return api.Unauthorized(headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, drf.AuthenticationFailed):
        return api.Unauthorized(str(exc.detail), headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, drf.PermissionDenied | PermissionDenied):
        message = str(getattr(exc, "detail", "")) or api.Forbidden.default_message
        return api.Forbidden(message)
    if isinstance(exc, drf.NotFound | Http404):
        return api.NotFound()
    if isinstance(exc, drf.MethodNotAllowed):
        return api.MethodNotAllowed(str(exc.detail).rstrip("."))
    if isinstance(exc, drf.UnsupportedMediaType):
        kind = "multipart/form-data" if _is_multipart_view(context) else "application/json"
        return api.UnsupportedMediaType(f"Content-Type must be {kind}")
    if isinstance(exc, drf.ParseError):
        kind = "multipart" if _is_multipart_view(context) else "JSON"
        return api.BadRequest(f"Malformed {kind} body")
    if isinstance(exc, RequestDataTooBig):
        return api.PayloadTooLarge()
    if isinstance(exc, TooManyFilesSent):
        return api.ValidationFailed.route_message("At most 10 files per request")
    if isinstance(exc, SuspiciousOperation):
        return api.BadRequest("Malformed multipart body")
    if isinstance(exc, drf.Throttled):
        wait = int(exc.wait or 1)
        return api.TooManyRequests(headers={"Retry-After": str(wait)})
    if isinstance(exc, IntegrityError):
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint in CONFLICT_MESSAGES:
            return api.Conflict(CONFLICT_MESSAGES[constraint])
    if isinstance(exc, drf.APIException):
        error = api.ApiError(str(exc.detail))
        error.status_code = exc.status_code
        error.error_type = "BAD_REQUEST" if exc.status_code == 400 else error.error_type
        return error
    return api.ApiError()


def log_unexpected(exc: BaseException, request: HttpRequest | None) -> None:
    logger.error(
        "unhandled exception",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"requestId": getattr(request, "request_id", None), "errorType": "INTERNAL_ERROR"},
    )


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER."""
    request = context.get("request")
    error = to_api_error(exc, context)
    if error.status_code >= 500:
        log_unexpected(exc, request)
    set_rollback()
    response = Response(error_body(error, request), status=error.status_code, headers=error.headers)
    response.error_type = error.error_type
    return response


def django_error_response(exc: BaseException, request: HttpRequest) -> HttpResponse:
    """The same mapping for plain Django views and middleware."""
    error = to_api_error(exc)
    if error.status_code >= 500:
        log_unexpected(exc, request)
    return error_response(error, request)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(api.NotFound(), request)


def handler500(request: HttpRequest) -> HttpResponse:
    """Django calls this inside its `except` block, so the exception is still at hand for the log."""
    import sys

    exc = sys.exc_info()[1]
    if exc is not None:
        log_unexpected(exc, request)
    return error_response(api.ApiError(), request)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return django_error_response(exception or api.BadRequest("Malformed multipart body"), request)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(api.Forbidden(), request)
