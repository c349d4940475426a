"""Domain exceptions: services raise these, the one exception handler turns them into the SPEC §1.1 error envelope."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Base of every error that leaves the API as an envelope (SPEC §1.2)."""

    status_code = 500
    error_type = "INTERNAL_ERROR"
    default_message = "An unexpected error occurred"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = dict(details or {})
        if fields is not None:
            self.details["fields"] = fields
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(ApiError):
    status_code = 400
    error_type = "BAD_REQUEST"
    default_message = "Malformed JSON body"


class ValidationFailed(ApiError):
    """400 VALIDATION_ERROR; always carries ``details.fields``."""

    status_code = 400
    error_type = "VALIDATION_ERROR"
    default_message = "Validation failed"

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None, **kwargs: Any):
        super().__init__(message, fields=fields or {}, **kwargs)

    @classmethod
    def on_field(cls, field: str, message: str, **kwargs: Any) -> ValidationFailed:
        """A route message given on one field: only the field carries it (SPEC §1.3 decision)."""
        return cls(fields={field: [message]}, **kwargs)

    @classmethod
    def route_message(cls, message: str, field: str = "nonFieldErrors", **kwargs: Any) -> ValidationFailed:
        """A route/file message: it is ``error.message`` and is repeated under its field (SPEC §1.3 decision)."""
        return cls(message, fields={field: [message]}, **kwargs)


class Unauthorized(ApiError):
    status_code = 401
    error_type = "UNAUTHORIZED"
    default_message = "Authentication required"


class Forbidden(ApiError):
    status_code = 403
    error_type = "FORBIDDEN"
    default_message = "You do not have permission to perform this action"


class NotFound(ApiError):
    status_code = 404
    error_type = "NOT_FOUND"
    default_message = "Route not found"


class MethodNotAllowed(ApiError):
    status_code = 405
    error_type = "METHOD_NOT_ALLOWED"
    default_message = "Method not allowed"


class Conflict(ApiError):
    status_code = 409
    error_type = "CONFLICT"
    default_message = "Conflict"


class PayloadTooLarge(ApiError):
    status_code = 413
    error_type = "PAYLOAD_TOO_LARGE"
    default_message = "Request body too large"


class UnsupportedMediaType(ApiError):
    status_code = 415
    error_type = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Content-Type must be application/json"


class TooManyRequests(ApiError):
    status_code = 429
    error_type = "TOO_MANY_REQUESTS"
    default_message = "Too many requests, please try again later"


class ServiceUnavailable(ApiError):
    status_code = 503
    error_type = "SERVICE_UNAVAILABLE"
    default_message = "Service unavailable"
