"""The one exception handler: every error leaves as the SPEC §1.1 envelope with a `requestId` (no traces, no SQL)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg2
from django.core.exceptions import (
    ImproperlyConfigured,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFilesSent,
)
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import exceptions as drf
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import set_rollback

from lego_api.core import exceptions as api
from lego_api.core.casing import to_camel
from lego_api.core.envelope import error_body, error_response
from lego_api.core.renderers import EnvelopeJSONRenderer

logger = logging.getLogger("lego_api.errors")

# Database constraint (or unique index) name -> 409 message, registered by the apps that own the constraints in
# their AppConfig.ready() (SPEC §3.0). Services check constraints first; this answers the races those checks lose.
CONFLICT_MESSAGES: dict[str, str] = {}


def register_conflict(constraint_name: str, message: str) -> None:
    """Map an IntegrityError on `constraint_name` to 409 CONFLICT `message`, wherever it surfaces."""
    registered = CONFLICT_MESSAGES.setdefault(constraint_name, message)
    if registered != message:
        raise ImproperlyConfigured(f"Constraint {constraint_name!r} already maps to {registered!r}")


def violated_constraint(exc: BaseException) -> str | None:
    """The name of the constraint an IntegrityError violated, as PostgreSQL reports it.

    Django's IntegrityError wraps the driver's error (`__cause__`); a raw driver error (COPY through the driver's
    cursor) carries it itself. Either may arrive as the context of another exception, so the chain is followed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = getattr(getattr(current, "diag", None), "constraint_name", None)
        if name:
            return name
        current = current.__cause__ or current.__context__
    return None


def conflict_for(exc: BaseException) -> api.Conflict | None:
    """The 409 for an IntegrityError on a registered constraint; None for anything else."""
    if not isinstance(exc, IntegrityError | psycopg2.IntegrityError):
        return None
    message = CONFLICT_MESSAGES.get(violated_constraint(exc) or "")
    return api.Conflict(message) if message is not None else None


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
    if (conflict := conflict_for(exc)) is not None:
        return conflict
    if isinstance(exc, drf.APIException):
        error = api.ApiError(str(exc.detail))
        error.status_code = exc.status_code
        error.error_type = "BAD_REQUEST" if exc.status_code == 400 else error.error_type
        return error
    return api.ApiError()


def log_unexpected(exc: BaseException, request: HttpRequest | None) -> None:
    if isinstance(exc, api.ServiceUnavailable):
        return  # a dependency a route reports as down (e.g. Cognito for U2): expected, and logged where it is raised
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
    if request is not None:
        # Errors are the JSON envelope whatever the view negotiated (the OpenAPI document's YAML, Swagger UI's HTML).
        request.accepted_renderer, request.accepted_media_type = EnvelopeJSONRenderer(), EnvelopeJSONRenderer.media_type
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
