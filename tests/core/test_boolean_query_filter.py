"""`BooleanQueryFilter` (lego_api.core.query): a filterset's boolean read by the SPEC §1.4 rule, where django-filter's
own would take `yes` (or `TRUE`) as no filter at all."""

from __future__ import annotations

import django_filters
import pytest
from django.http import QueryDict

from lego_api.core.query import BooleanQueryFilter
from mocs.models import Moc


class RetiredFilter(django_filters.FilterSet):
    retired = BooleanQueryFilter(field_name="retired")

    class Meta:
        model = Moc
        fields = ["retired"]


def cleaned(query: str):
    filterset = RetiredFilter(QueryDict(query), queryset=Moc.objects.none())
    return filterset.is_valid(), filterset.form.cleaned_data.get("retired"), filterset.errors


@pytest.mark.parametrize(
    ("query", "value"),
    [
        ("retired=true", True),
        ("retired=TRUE", True),
        ("retired=1", True),
        ("retired=False", False),
        ("retired=0", False),
    ],
)
def test_spec_spellings_are_read(query, value):
    assert cleaned(query)[:2] == (True, value)


@pytest.mark.parametrize("query", ["", "retired=", "retired=%20"])
def test_absent_or_empty_is_no_filter(query):
    assert cleaned(query)[:2] == (True, None)


@pytest.mark.parametrize(
    ("query", "message"), [("retired=yes", "Must be true, false, 1 or 0."), ("retired=a%00", None)]
)
def test_anything_else_is_an_error_on_the_parameter(query, message):
    valid, _, errors = cleaned(query)
    assert not valid and "retired" in errors
    if message:
        assert errors["retired"] == [message]
