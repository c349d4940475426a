"""Request parsers: camelCase JSON in (converted to snake_case) with the 2 MB JSON cap of SPEC §1.8."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from lego_api.core.casing import underscoreize
from lego_api.core.exceptions import PayloadTooLarge

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


class CamelCaseJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > settings.JSON_BODY_MAX_BYTES:
            raise PayloadTooLarge()
        raw = stream.read(settings.JSON_BODY_MAX_BYTES + 1) if stream is not None else b""
        if len(raw) > settings.JSON_BODY_MAX_BYTES:
            raise PayloadTooLarge()
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_reject_non_json_constant)
            if _deeper_than(value, JSON_MAX_DEPTH):
                raise ValueError(f"nested deeper than {JSON_MAX_DEPTH} levels")
            return underscoreize(value)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            raise ParseError("Malformed JSON body") from exc
