"""The SPEC §1.1 response envelope: success and error bodies, timestamps, and their JSON encoding."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.response import Response

from lego_api.core.casing import camelize
from lego_api.core.exceptions import ApiError


def format_timestamp(value: dt.datetime) -> str:
    """UTC `YYYY-MM-DDTHH:mm:ss.sssZ`: a four-digit year (zero-padded; `strftime("%Y")` is not) and always three
    fractional digits (SPEC §1.5)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def now_timestamp() -> str:
    return format_timestamp(dt.datetime.now(dt.UTC))


class ApiJSONEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime):
            return format_timestamp(o)
        if isinstance(o, dt.date):
            return o.isoformat()
        if isinstance(o, decimal.Decimal):
            return int(o) if o == o.to_integral_value() and o.as_tuple().exponent >= 0 else float(o)
        if isinstance(o, uuid.UUID):
            return str(o)
        if isinstance(o, (set, frozenset, tuple)):
            return list(o)
        return super().default(o)


def encode(body: Any) -> bytes:
    return json.dumps(body, cls=ApiJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def finish_body(body: dict[str, Any]) -> dict[str, Any]:
    """camelCase the keys and stamp the body; `requestId` stays last on errors."""
    out = camelize(body)
    request_id = out.pop("requestId", None)
    out["timestamp"] = now_timestamp()
    if request_id is not None:
        out["requestId"] = request_id
    return out


class SuccessBody:
    """A success envelope already rendered up to its `timestamp` (`head`: `{"success":true,"data":…,"total":…,`): the
    renderer only appends the fresh `"timestamp":"…"}`. What the response cache stores and answers a hit with, so a
    hit neither parses nor re-encodes `data` (lego_api.core.cache)."""

    __slots__ = ("head",)
    PREFIX = b'{"success":true,"data":'

    def __init__(self, head: bytes) -> None:
        self.head = head

    @classmethod
    def of(cls, data: Any, **meta: Any) -> SuccessBody:
        """The body `success(data, **meta)` renders to, minus its timestamp: the same bytes by construction."""
        return cls(encode(camelize({"success": True, "data": data, **meta}))[:-1] + b",")

    def render(self) -> bytes:
        return self.head + b'"timestamp":"' + now_timestamp().encode() + b'"}'


def success(data: Any = None, *, message: str | None = None, status: int = 200, **meta: Any) -> Response:
    """A success envelope: `data`, any list meta (`total`, `page`, ...), and `message` only when given."""
    body: dict[str, Any] = {"success": True, "data": data}
    body.update(meta)
    if message is not None:
        body["message"] = message
    return Response(body, status=status)


def request_id_of(request: HttpRequest | None) -> str:
    rid = getattr(request, "request_id", None) if request is not None else None
    return rid or str(uuid.uuid4())


def error_body(exc: ApiError, request: HttpRequest | None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": exc.error_type, "message": exc.message}
    if exc.details and exc.status_code != 500:
        error["details"] = exc.details
    return {"success": False, "error": error, "requestId": request_id_of(request)}


def error_response(exc: ApiError, request: HttpRequest | None) -> HttpResponse:
    """An error envelope outside DRF (middleware, plain Django views, handler404/500)."""
    response = HttpResponse(
        encode(finish_body(error_body(exc, request))), status=exc.status_code, content_type="application/json"
    )
    for name, value in exc.headers.items():
        response[name] = value
    response.error_type = exc.error_type  # read by the request logger
    return response
