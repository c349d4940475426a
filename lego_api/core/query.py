"""Query-parameter readers (SPEC §1.4, §1.7): views read query values with the `query_*` functions, which apply the
text rule of `lego_api.core.fields` and answer 400 VALIDATION_ERROR on the parameter's name; filtersets declare
text with `TextFilter` / `TextChoiceFilter` and take `query_params(request)` as data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import HttpRequest, QueryDict
from django_filters import fields as filter_fields

from lego_api.core.exceptions import ValidationFailed
from lego_api.core.fields import TEXT_ENCODING, parse_boolean, parse_string_array, parse_whole_number, text_error


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


class _BooleanFormField(forms.Field):
    """A SPEC §1.4 query boolean (true/false/1/0, case-insensitive); None when absent or empty."""

    def to_python(self, value: Any) -> bool | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        message = text_error(value) if isinstance(value, str) else None
        if message is not None:
            raise forms.ValidationError(message)
        try:
            return parse_boolean(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class BooleanQueryFilter(django_filters.BooleanFilter):
    """A boolean filter read by the one boolean rule (`query_bool`'s): django-filter's own takes only some spellings
    and treats any other value, `yes` included, as no filter."""

    field_class = _BooleanFormField
