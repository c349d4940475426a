"""The SPEC §1.4 and §1.5 input rules, decided once for every route: text (no U+0000, no lone surrogate), booleans,
whole numbers, string arrays and timestamps. Bodies use the serializer fields here (the parsers apply the text
rule to every JSON and multipart value first); views read query parameters with the `query_*` readers, which
answer 400 VALIDATION_ERROR on the parameter's name."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import django_filters
from django import forms
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import HttpRequest, QueryDict
from django_filters import fields as filter_fields
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lego_api.core.casing import to_camel
from lego_api.core.exceptions import ValidationFailed

MSG_NULL_CHARACTERS = "Null characters are not allowed."
MSG_LONE_SURROGATE = "Must be valid UTF-8 text (no lone surrogates)."
MSG_BOOLEAN = "Must be true, false, 1 or 0."
MSG_WHOLE_NUMBER = "Must be a whole number."
MSG_STRING_ARRAY = "Must be a JSON array of strings."
MSG_TIMESTAMP = "Must be an ISO 8601 date or date-time."
MSG_YEAR = "The year must be between 1000 and 9999."

TRUE_WORDS = frozenset({"true", "1"})
FALSE_WORDS = frozenset({"false", "0"})
YEAR_MIN, YEAR_MAX = 1000, 9999
# A query whole number has no upper bound of its own (a page past the end is an empty page, SPEC §1.7), but a longer
# one is refused rather than parsed (CPython refuses int() of over 4300 digits, and the work grows with the length).
WHOLE_NUMBER_MAX_DIGITS = 32


# --- Text ------------------------------------------------------------------------------------------------------------

# Django decodes query strings and multipart text with errors="replace", so a lone surrogate (which can only travel as
# its invalid UTF-8 bytes, %ED%A0%80) would silently become U+FFFD. Decoding with this codec instead turns every
# byte that is not valid UTF-8 into a lone surrogate (U+DC80-U+DCFF), whatever `errors` the caller asks for, so the
# text rule below refuses it.
TEXT_ENCODING = "lego_api_text"


def _decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
    return codecs.utf_8_decode(data, "surrogateescape", True)


def _encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return codecs.utf_8_encode(text, "surrogateescape" if errors == "strict" else errors)


class _IncrementalDecoder(codecs.BufferedIncrementalDecoder):
    def _buffer_decode(self, data: bytes, errors: str, final: bool) -> tuple[str, int]:
        return codecs.utf_8_decode(data, "surrogateescape", final)


class _IncrementalEncoder(codecs.IncrementalEncoder):
    def encode(self, text: str, final: bool = False) -> bytes:
        return _encode(text, self.errors)[0]


def _find_codec(name: str) -> codecs.CodecInfo | None:
    if name != TEXT_ENCODING:
        return None
    return codecs.CodecInfo(
        name=TEXT_ENCODING,
        encode=_encode,
        decode=_decode,
        incrementalencoder=_IncrementalEncoder,
        incrementaldecoder=_IncrementalDecoder,
    )


codecs.register(_find_codec)


def text_error(value: str) -> str | None:
    """The SPEC §1.4 text rule: U+0000 or a lone surrogate is refused (PostgreSQL can store neither)."""
    if "\x00" in value:
        return MSG_NULL_CHARACTERS
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return MSG_LONE_SURROGATE
    return None


def printable_name(name: str) -> str:
    """A field name that breaks the text rule itself, made printable for `details.fields`."""
    return name.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def text_errors(value: Any, path: str = "") -> dict[str, list[str]]:
    """Every string in a parsed body (keys and values) checked by the text rule, as `details.fields`: dotted
    camelCase paths of the nearest field (`parts.3.partName`); a string inside a list of strings is reported on the
    list (`tags`). Walked with a stack, so that no nesting depth the JSON decoder accepts can overflow."""
    errors: dict[str, list[str]] = {}
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, str):
            message = text_error(node)
            if message is not None:
                messages = errors.setdefault(at or "nonFieldErrors", [])
                if message not in messages:
                    messages.append(message)
        elif isinstance(node, Mapping):
            for key, item in node.items():
                name = to_camel(key) if isinstance(key, str) else str(key)
                key_error = text_error(name)
                child = f"{at}.{printable_name(name)}" if at else printable_name(name)
                if key_error:
                    errors.setdefault(child, [key_error])
                stack.append((item, child))
        elif isinstance(node, (list, tuple)):
            for index, item in enumerate(node):
                nested = isinstance(item, (Mapping, list, tuple))
                stack.append((item, (f"{at}.{index}" if at else str(index)) if nested else at))
    return dict(sorted(errors.items()))


def check_text(value: Any, path: str = "") -> None:
    """Raise 400 VALIDATION_ERROR for every string of `value` that breaks the text rule."""
    errors = text_errors(value, path)
    if errors:
        raise ValidationFailed(fields=errors)


# --- Booleans, whole numbers, string arrays, timestamps ---------------------------------------------------------------


def parse_boolean(value: Any) -> bool:
    """SPEC §1.4: JSON true/false, or the strings true/false/1/0 in any case (trimmed). Anything else is ValueError."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError(MSG_BOOLEAN)


def parse_whole_number(value: str) -> int:
    """Decimal digits only (SPEC §1.4; leading zeros allowed), at most WHOLE_NUMBER_MAX_DIGITS significant ones.
    ValueError with the message otherwise."""
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(MSG_WHOLE_NUMBER)
    significant = digits.lstrip("0") or "0"
    if len(significant) > WHOLE_NUMBER_MAX_DIGITS:
        raise ValueError(f"Must have at most {WHOLE_NUMBER_MAX_DIGITS} digits.")
    return int(significant)


def parse_string_array(value: str) -> list[str] | None:
    """A multipart or query value holding a JSON array of strings (SPEC §1.4): the list; None when the value does
    not start with `[` (it is then a single item). A value that starts with `[` and does not parse is ValueError."""
    if not value.lstrip().startswith("["):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ValueError(MSG_STRING_ARRAY) from None
    if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
        raise ValueError(MSG_STRING_ARRAY)
    return parsed


def parse_timestamp(value: str | dt.datetime) -> dt.datetime:
    """SPEC §1.5: ISO 8601 with `Z` or an offset, converted to UTC; no zone means UTC; a date alone means 00:00:00Z.
    The year must be 1000-9999 both as sent and in UTC, so that every output has four digits."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(MSG_TIMESTAMP) from None
    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
        raise ValueError(MSG_YEAR)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        in_utc = parsed.astimezone(dt.UTC)
    except OverflowError:  # `9999-12-31T23:30:00-01:00` would be year 10000
        raise ValueError(MSG_YEAR) from None
    if not YEAR_MIN <= in_utc.year <= YEAR_MAX:
        raise ValueError(MSG_YEAR)
    return in_utc


# --- Serializer fields ------------------------------------------------------------------------------------------------


class BooleanField(serializers.BooleanField):
    """The one boolean of every body (SPEC §1.4): JSON true/false and the strings true/false/1/0, case-insensitive.
    A multipart form that leaves the field out has not sent it (DRF would read a missing checkbox as false)."""

    default_error_messages = {"invalid": MSG_BOOLEAN}
    default_empty_html = serializers.empty

    def to_internal_value(self, data: Any) -> bool:
        try:
            return parse_boolean(data)
        except ValueError:
            self.fail("invalid")


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.Field):
    """An ISO 8601 input timestamp (SPEC §1.5), as an aware UTC datetime; see `parse_timestamp`."""

    def to_internal_value(self, data: Any) -> dt.datetime:
        if not isinstance(data, (str, dt.datetime)):
            raise serializers.ValidationError(MSG_TIMESTAMP)
        try:
            return parse_timestamp(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: dt.datetime) -> dt.datetime:
        return value


# --- Query parameters -------------------------------------------------------------------------------------------------


def query_params(request: Any) -> QueryDict:
    """The request's query parameters decoded with TEXT_ENCODING (so a lone surrogate stays visible), read once."""
    django_request: HttpRequest = getattr(request, "_request", request)
    params = getattr(django_request, "_text_query_params", None)
    if params is None:
        raw = get_bytes_from_wsgi(django_request.META, "QUERY_STRING", "")
        params = QueryDict(raw, encoding=TEXT_ENCODING)
        django_request._text_query_params = params
    return params


def _raw(request: Any, name: str) -> str | None:
    """The parameter's (last) value, under the text rule; None when absent."""
    value = query_params(request).get(name)
    if value is None:
        return None
    message = text_error(value)
    if message is not None:
        raise ValidationFailed.on_field(name, message)
    return value


def query_text(request: Any, name: str, *, max_length: int, min_length: int = 0) -> str | None:
    """A trimmed text parameter, None when absent or empty (when `min_length` is 0); 400 when too long/short."""
    value = _raw(request, name)
    if value is None:
        return None
    value = value.strip()
    if len(value) > max_length:
        raise ValidationFailed.on_field(name, f"Ensure this value has at most {max_length} characters.")
    if len(value) < min_length:
        raise ValidationFailed.on_field(name, f"Ensure this value has at least {min_length} characters.")
    return value or None


def query_choice(request: Any, name: str, choices: Iterable[str], *, default: str | None = None) -> str | None:
    """One of `choices`; the default when absent or empty."""
    value = _raw(request, name)
    if value is None or not value.strip():
        return default
    value = value.strip()
    if value not in choices:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ValidationFailed.on_field(name, f'"{shown}" is not a valid choice.')
    return value


def query_int(request: Any, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
    """A whole number of decimal digits only, within bounds (never clamped, SPEC §1.7); the default when absent."""
    value = _raw(request, name)
    if value is None or value == "":
        return default
    try:
        number = parse_whole_number(value)
    except ValueError as exc:
        raise ValidationFailed.on_field(name, str(exc)) from None
    if number < minimum:
        raise ValidationFailed.on_field(name, f"Must be at least {minimum}.")
    if maximum is not None and number > maximum:
        raise ValidationFailed.on_field(name, f"Must be at most {maximum}.")
    return number


def query_bool(request: Any, name: str) -> bool | None:
    """A boolean parameter (true/false/1/0, case-insensitive); None when absent or empty."""
    value = _raw(request, name)
    if value is None or not value.strip():
        return None
    try:
        return parse_boolean(value)
    except ValueError as exc:
        raise ValidationFailed.on_field(name, str(exc)) from None


def query_string_array(request: Any, name: str) -> list[str] | None:
    """A string array parameter: repeated (`?tag=a&tag=b`) or one JSON array string; None when absent."""
    values = query_params(request).getlist(name)
    if not values:
        return None
    items: list[str] = []
    for value in values:
        message = text_error(value)
        if message is not None:
            raise ValidationFailed.on_field(name, message)
        try:
            parsed = parse_string_array(value)
        except ValueError as exc:
            raise ValidationFailed.on_field(name, str(exc)) from None
        items.extend(parsed if parsed is not None else [value])
    return items


# django-filter: filtersets take `query_params(request)` as data and declare text with these filters, so a
# filterset validates query text by the same rule (a choice error echoes the value, which must be printable).


class _TextRuleFormMixin:
    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        message = text_error(value) if isinstance(value, str) else None
        if message is not None:
            raise forms.ValidationError(message)
        return value


class _TextFormField(_TextRuleFormMixin, forms.CharField):
    pass


class _TextChoiceFormField(_TextRuleFormMixin, filter_fields.ChoiceField):
    pass


class TextFilter(django_filters.CharFilter):
    field_class = _TextFormField


class TextChoiceFilter(django_filters.ChoiceFilter):
    field_class = _TextChoiceFormField
