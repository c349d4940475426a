"""The SPEC §1.4 and §1.5 input rules, decided once for every route: text (no U+0000, no lone surrogate), booleans,
whole numbers, string arrays and timestamps, and the serializer fields every app's payloads are built from
(optional text, strict integers, the one boolean, UTC timestamps, tags, http(s) URLs, file references). The parsers
apply the text rule to every JSON and multipart value first; query parameters are read with `lego_api.core.query`."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lego_api.core.casing import to_camel
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.storage import render_url

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


# --- Optional, nullable and domain-shaped fields --------------------------------------------------------------------

MAX_TAGS = 20
MAX_TAG_LENGTH = 50


class OptionalTextField(serializers.CharField):
    """Trimmed text; empty after trimming is stored as null (SPEC §1.4). Whether null is allowed is decided by
    the type rules, which know if the field is required."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(allow_null=True, allow_blank=True, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> str | None:
        return super().run_validation(data) or None


class TrimmedChoiceField(serializers.ChoiceField):
    """A choice, compared after trimming."""

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(data.strip() if isinstance(data, str) else data)


class EmptyIsNullMixin:
    """Optional and nullable; an empty (or blank) multipart string means null."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(allow_null=True, **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if isinstance(data, str) and not data.strip():
            return True, None
        return super().validate_empty_values(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON integer, or a string of decimal digits (multipart). No floats, no signs, no '1e3'."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            return data
        if isinstance(data, str):
            digits = data.strip()
            # 12 digits is far beyond every bound here, and keeps int() away from huge inputs.
            if digits.isascii() and digits.isdigit() and len(digits) <= 12:
                return int(digits)
        self.fail("invalid")


class StrictIntegerField(EmptyIsNullMixin, WholeNumberField):
    """`WholeNumberField`, optional and nullable: empty is null."""


class NullableBooleanField(EmptyIsNullMixin, BooleanField):
    """The SPEC §1.4 boolean (`BooleanField`); empty is null."""


class UtcDateTimeField(EmptyIsNullMixin, TimestampField):
    """The SPEC §1.5 input timestamp (`TimestampField`): UTC, years 1000-9999; empty is null."""


@extend_schema_field({"type": "array", "items": {"type": "string", "maxLength": MAX_TAG_LENGTH}, "maxItems": MAX_TAGS})
class TagsField(serializers.Field):
    """Tags (SPEC §1.4): a list, or one JSON-array string (multipart); trimmed, lower-cased, empty ones dropped,
    de-duplicated in order; at most 20, each 1-50 characters; null is []."""

    default_error_messages = {
        "not_a_list": "Expected a list of tags.",
        "not_a_string": "Each tag must be a string.",
        "too_many": f"At most {MAX_TAGS} tags are allowed.",
        "too_long": f"Each tag must be at most {MAX_TAG_LENGTH} characters.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(allow_null=True, **kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, []
        return super().validate_empty_values(data)

    @staticmethod
    def _json_array(value: str) -> list[str] | None:
        """One value holding a JSON array string; a value that starts with `[` must parse (SPEC §1.4)."""
        try:
            return parse_string_array(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            # Multipart: one value holding a JSON array, or a single tag (a repeated field seen once).
            parsed = self._json_array(data)
            data = parsed if parsed is not None else [data]
        elif isinstance(data, (list, tuple)) and len(data) == 1 and isinstance(data[0], str):
            parsed = self._json_array(data[0])
            data = parsed if parsed is not None else list(data)
        if not isinstance(data, (list, tuple)):
            self.fail("not_a_list")
        tags: list[str] = []
        for item in data:
            if not isinstance(item, str):
                self.fail("not_a_string")
            message = text_error(item)  # jsonb can hold neither U+0000 nor a lone surrogate
            if message is not None:
                raise serializers.ValidationError(message)
            tag = item.strip().lower()
            if tag and tag not in tags:
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            self.fail("too_many")
        if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
            self.fail("too_long")
        return tags

    def to_representation(self, value: list[str]) -> list[str]:
        return value


class HttpUrlField(OptionalTextField):
    """An absolute http(s) URL of at most 2048 characters, or null (a client-supplied file reference)."""

    default_error_messages = {"invalid_url": "Must be an absolute http(s) URL."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=2048, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> str | None:
        value = super().run_validation(data)
        if value is not None:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except DjangoValidationError:
                self.fail("invalid_url")
        return value


class FileReferenceField(serializers.CharField):
    """A file-reference column rendered as a readable URL (SPEC §5.3). With `filename_source`, a download URL names
    the file after that attribute of the row (the original name) rather than its key."""

    def __init__(self, *, filename_source: str | None = None, **kwargs: Any) -> None:
        self.filename_source = filename_source
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        key = super().get_attribute(instance)
        filename = getattr(instance, self.filename_source) if self.filename_source else None
        return (key, filename)

    def to_representation(self, value: tuple[str | None, str | None]) -> str | None:
        key, filename = value
        return render_url(key, request=self.context.get("request"), filename=filename)
