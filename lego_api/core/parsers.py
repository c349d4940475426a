"""Request parsers (SPEC §1.4, §1.8): camelCase JSON in (converted to snake_case) with the 2 MB cap, and multipart
that must be complete. Both apply the text rule to every value before any view sees it, and an empty body on a
method that carries one reaches them (DRF would hand the view `{}` without asking)."""

from __future__ import annotations

import io
import json
from typing import Any

from django.conf import settings
from django.utils.http import parse_header_parameters
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from lego_api.core.casing import underscoreize
from lego_api.core.exceptions import PayloadTooLarge, ValidationFailed
from lego_api.core.fields import TEXT_ENCODING, check_text, printable_name, text_error

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
MSG_MALFORMED_JSON = "Malformed JSON body"
MSG_MALFORMED_MULTIPART = "Malformed multipart body"

# Deeper bodies are refused as malformed. The interpreter's own limits differ between versions (Python 3.11's
# recursion limit stopped a 900-deep body in underscoreize, 3.13's does not), so the parser says it; no request of
# SPEC §4 nests more than a few levels.
JSON_MAX_DEPTH = 64


def _deeper_than(value: object, limit: int) -> bool:
    """Whether containers nest more than `limit` levels (iterative: no recursion on hostile input)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _reject_non_json_constant(name: str) -> None:
    """Python's decoder accepts `NaN` and `Infinity`; JSON (RFC 8259) does not."""
    raise ValueError(f"{name} is not valid JSON")


def parse_empty_bodies(request: Any) -> None:
    """SPEC §1.8: an empty body on a route that takes one is malformed. DRF skips the parsers when the length is 0 and
    gives the view `{}`; on POST, PUT and PATCH this hands DRF an empty stream instead, so the parsers decide (the
    JSON parser answers `Malformed JSON body`, the multipart parser `Malformed multipart body`, a missing or other
    Content-Type 415). It only matters when the view reads `request.data`: routes without a body ignore one.
    Called for every DRF request by the project's content negotiation, before the view runs."""
    if request.method not in BODY_METHODS:
        return
    meta = request._request.META
    try:
        length = int(meta.get("CONTENT_LENGTH", meta.get("HTTP_CONTENT_LENGTH", 0)))
    except (TypeError, ValueError):
        length = 0
    if length == 0:
        request._stream = io.BytesIO()


class CamelCaseJSONParser(parsers.BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > settings.JSON_BODY_MAX_BYTES:
            raise PayloadTooLarge()
        raw = stream.read(settings.JSON_BODY_MAX_BYTES + 1) if stream is not None else b""
        if len(raw) > settings.JSON_BODY_MAX_BYTES:
            raise PayloadTooLarge()
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_non_json_constant)
            if _deeper_than(data, JSON_MAX_DEPTH):
                raise ValueError(f"nested deeper than {JSON_MAX_DEPTH} levels")
            converted = underscoreize(data)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            raise ParseError(MSG_MALFORMED_JSON) from exc  # an empty body too (JSONDecodeError)
        check_text(data)
        return converted


class _ClosingDelimiterWatch:
    """The body, passed through to Django's parser, noting whether the closing delimiter (`--boundary--` at the start
    of a line) went by. Django's parser silently drops a part cut off by the end of the body."""

    def __init__(self, stream: Any, boundary: bytes) -> None:
        self._stream = stream
        self._marker = b"\n--" + boundary + b"--"
        self._tail = b"\n"  # the body's first line starts a line too
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        if chunk and not self.closed:
            window = self._tail + chunk
            self.closed = self._marker in window
            self._tail = window[-(len(self._marker) - 1) :]
        return chunk


def _multipart_text_errors(data: Any, files: Any) -> dict[str, list[str]]:
    """Every field name, text value and file name of the body under the text rule, by field name."""
    errors: dict[str, list[str]] = {}
    for name, values in [*data.lists(), *files.lists()]:
        texts = [name, *(value if isinstance(value, str) else value.name or "" for value in values)]
        messages = [message for message in map(text_error, texts) if message is not None]
        if messages:
            errors[printable_name(name)] = list(dict.fromkeys(messages))
    return errors


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, plus: a body cut off before its closing delimiter is `Malformed multipart body`
    (Django's parser would drop the cut part silently); text values are decoded so that bytes which are not UTF-8
    (a lone surrogate) are refused by the text rule rather than replaced with U+FFFD; and every field name, value
    and file name follows the text rule. Every multipart view uses this parser."""

    def parse(self, stream, media_type=None, parser_context=None):
        _, params = parse_header_parameters(media_type or "")
        boundary = params.get("boundary", "").encode("ascii", "replace")
        watched = _ClosingDelimiterWatch(stream, boundary)
        context = {**(parser_context or {}), "encoding": TEXT_ENCODING}
        result = super().parse(watched, media_type, context)
        if not watched.closed:
            raise ParseError(MSG_MALFORMED_MULTIPART)
        errors = _multipart_text_errors(result.data, result.files)
        if errors:
            raise ValidationFailed(fields=errors)
        return result
