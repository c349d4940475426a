"""MocWriteSerializer: the MocWrite rules of SPEC §4.2 / §3.4 and the input rules of §1.4 and §1.5, including the
multipart forms (strings for booleans and integers, tags as a repeated field or a JSON-array string)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict
from django.utils import timezone

from lego_api.core.errors import flatten_errors
from mocs.serializers import MocWriteSerializer
from tests.factories import MocFactory, SetFactory

MOC = {
    "type": "moc",
    "title": "Coffee Truck",
    "author": "Jane",
    "partsCount": 328,
    "theme": "City",
    "setNumber": "MOC-1",
}
SET = {"type": "set", "title": "Assembly Square", "brand": "LEGO", "theme": "Modular", "setNumber": "10255"}


def validate(data, instance=None):
    serializer = MocWriteSerializer(data=data, partial=instance is not None, context={"instance": instance})
    ok = serializer.is_valid()
    return ok, (serializer.validated_data if ok else serializer.errors)


def errors_of(data, instance=None) -> dict:
    """The errors as the API sends them in `details.fields` (camelCase names)."""
    ok, result = validate(data, instance)
    assert not ok, result
    return flatten_errors(result)


def valid(data, instance=None) -> dict:
    ok, result = validate(data, instance)
    assert ok, result
    return dict(result)


def test_valid_moc_gives_snake_case_model_fields():
    data = valid({**MOC, "description": "  Espresso  ", "tags": ["Food"], "unknownKey": 1, "id": "x", "userId": "y"})
    assert data == {
        "type": "moc",
        "title": "Coffee Truck",
        "author": "Jane",
        "parts_count": 328,
        "theme": "City",
        "set_number": "MOC-1",
        "description": "Espresso",
        "tags": ["food"],
    }


def test_valid_set():
    data = valid({**SET, "releaseYear": 2018, "retired": True})
    assert data["release_year"] == 2018 and data["retired"] is True and data["brand"] == "LEGO"


def test_type_is_required_on_create():
    assert errors_of({k: v for k, v in MOC.items() if k != "type"})["type"] == ["This field is required."]


def test_type_must_be_moc_or_set():
    assert "type" in errors_of({**MOC, "type": "kit"})


def test_title_required_and_not_blank():
    assert errors_of({**MOC, "title": "   "})["title"] == ["This field may not be blank."]
    assert errors_of({k: v for k, v in MOC.items() if k != "title"})["title"] == ["This field is required."]
    assert errors_of({**MOC, "title": "x" * 256})["title"] == ["Ensure this field has no more than 255 characters."]


@pytest.mark.parametrize("field", ["author", "partsCount", "theme", "setNumber"])
def test_moc_required_fields(field):
    errors = errors_of({k: v for k, v in MOC.items() if k != field})
    assert errors == {field: ["This field is required."]}


@pytest.mark.parametrize("field", ["brand", "theme", "setNumber"])
def test_set_required_fields(field):
    errors = errors_of({k: v for k, v in SET.items() if k != field})
    assert errors == {field: ["This field is required."]}


@pytest.mark.parametrize("field,value", [("brand", "LEGO"), ("releaseYear", 2020), ("retired", False)])
def test_set_fields_not_allowed_on_a_moc(field, value):
    assert errors_of({**MOC, field: value}) == {field: ["Not allowed for type moc"]}


@pytest.mark.parametrize(
    "field,value",
    [("author", "Jane"), ("partsCount", 10), ("subtheme", "Cafe"), ("uploadedDate", "2025-01-01T00:00:00Z")],
)
def test_moc_fields_not_allowed_on_a_set(field, value):
    assert errors_of({**SET, field: value}) == {field: ["Not allowed for type set"]}


def test_other_type_fields_may_be_sent_as_null_or_empty():
    data = valid({**MOC, "brand": None, "releaseYear": "", "retired": None})
    assert "brand" not in data and "release_year" not in data and "retired" not in data


def test_optional_empty_text_becomes_null():
    assert valid({**MOC, "description": "   ", "subtheme": ""}) | {} == {
        **valid(MOC),
        "description": None,
        "subtheme": None,
    }


def test_required_text_empty_is_400():
    assert errors_of({**MOC, "author": "  "}) == {"author": ["This field may not be blank."]}


def test_limits():
    errors = errors_of({**MOC, "description": "d" * 5001, "setNumber": "s" * 51, "partsCount": 0})
    assert errors["description"] == ["Ensure this field has no more than 5000 characters."]
    assert errors["setNumber"] == ["Ensure this field has no more than 50 characters."]
    assert errors["partsCount"] == ["Ensure this value is greater than or equal to 1."]
    assert errors_of({**MOC, "partsCount": 1_000_001}) == {
        "partsCount": ["Ensure this value is less than or equal to 1000000."]
    }
    assert valid({**MOC, "partsCount": 1_000_000})["parts_count"] == 1_000_000


def test_release_year_bounds():
    latest = timezone.now().year + 2
    assert valid({**SET, "releaseYear": 1950})["release_year"] == 1950
    assert valid({**SET, "releaseYear": latest})["release_year"] == latest
    assert "releaseYear" in errors_of({**SET, "releaseYear": 1949})
    assert errors_of({**SET, "releaseYear": latest + 1}) == {
        "releaseYear": [f"Ensure this value is less than or equal to {latest}."]
    }


def test_every_error_is_reported_at_once():
    errors = errors_of({"type": "moc", "title": "", "partsCount": "abc", "brand": "LEGO", "tags": "x" * 51})
    assert set(errors) == {"title", "author", "partsCount", "theme", "setNumber", "brand", "tags"}


def test_integers_are_digits_only():
    assert valid({**MOC, "partsCount": "328"})["parts_count"] == 328
    for bad in ["3.5", "-3", "1e3", "+3", "٣", 3.5, True]:
        assert errors_of({**MOC, "partsCount": bad}) == {"partsCount": ["A valid integer is required."]}, bad


@pytest.mark.parametrize("raw,expected", [("true", True), ("FALSE", False), ("1", True), ("0", False), (True, True)])
def test_booleans(raw, expected):
    assert valid({**SET, "retired": raw})["retired"] is expected


@pytest.mark.parametrize("raw", ["yes", "no", "on", "t", "2", 1, 0, 1.5, [True]])
def test_bad_boolean(raw):
    """SPEC §1.4: JSON true/false and the strings true/false/1/0 only; JSON numbers are not booleans either."""
    assert errors_of({**SET, "retired": raw}) == {"retired": ["Must be true, false, 1 or 0."]}


def test_set_retired_null_defaults_to_false():
    assert valid({**SET, "retired": None})["retired"] is False


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2025-01-15T10:30:00Z", dt.datetime(2025, 1, 15, 10, 30, tzinfo=dt.UTC)),
        ("2025-01-15T12:30:00+02:00", dt.datetime(2025, 1, 15, 10, 30, tzinfo=dt.UTC)),
        ("2025-01-15T10:30:00.123", dt.datetime(2025, 1, 15, 10, 30, 0, 123000, tzinfo=dt.UTC)),
        ("2025-01-15", dt.datetime(2025, 1, 15, tzinfo=dt.UTC)),
    ],
)
def test_timestamps_are_utc(raw, expected):
    value = valid({**MOC, "uploadedDate": raw})["uploaded_date"]
    assert value == expected and value.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "raw",
    ["0999-12-31T23:59:59Z", "0999-12-31", "1000-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01"],
)
def test_timestamps_outside_years_1000_to_9999(raw):
    """SPEC §1.5: the year is checked as sent and after the conversion to UTC."""
    assert errors_of({**MOC, "uploadedDate": raw}) == {"uploadedDate": ["The year must be between 1000 and 9999."]}


def test_bad_timestamp():
    assert errors_of({**MOC, "uploadedDate": "15/01/2025"}) == {
        "uploadedDate": ["Must be an ISO 8601 date or date-time."]
    }


def test_tags_normalised():
    tags = valid({**MOC, "tags": [" Castle ", "castle", "", "SPACE", "  "]})["tags"]
    assert tags == ["castle", "space"]


def test_tags_null_is_empty_list():
    assert valid({**MOC, "tags": None})["tags"] == []


def test_tags_limits():
    assert errors_of({**MOC, "tags": [f"t{i}" for i in range(21)]}) == {"tags": ["At most 20 tags are allowed."]}
    assert valid({**MOC, "tags": [f"t{i}" for i in range(20)] + ["T0"]})["tags"][-1] == "t19"
    assert errors_of({**MOC, "tags": ["x" * 51]}) == {"tags": ["Each tag must be at most 50 characters."]}
    assert errors_of({**MOC, "tags": [1]}) == {"tags": ["Each tag must be a string."]}
    assert errors_of({**MOC, "tags": {"a": 1}}) == {"tags": ["Expected a list of tags."]}


def test_thumbnail_url():
    assert valid({**MOC, "thumbnailUrl": "https://cdn.example.com/a.png"})["thumbnail_url"].startswith("https://")
    assert valid({**MOC, "thumbnailUrl": ""})["thumbnail_url"] is None
    for bad in ["/relative.png", "ftp://example.com/a.png", "mocs/user/key.png"]:
        assert errors_of({**MOC, "thumbnailUrl": bad}) == {"thumbnailUrl": ["Must be an absolute http(s) URL."]}
    too_long = "https://example.com/" + "a" * 2030
    assert errors_of({**MOC, "thumbnailUrl": too_long}) == {
        "thumbnailUrl": ["Ensure this field has no more than 2048 characters."]
    }


def test_multipart_querydict():
    body = QueryDict(mutable=True)
    body.update({"type": "set", "title": "Castle", "brand": "LEGO", "theme": "Castle", "setNumber": "10305"})
    body.update({"releaseYear": "2022", "retired": "TRUE"})
    body.setlist("tags", ["Knights", "castle", "knights"])
    data = valid(body)
    assert data["release_year"] == 2022 and data["retired"] is True and data["tags"] == ["knights", "castle"]


def test_multipart_tags_as_json_array_string():
    assert valid({**MOC, "tags": '["Castle", "space"]'})["tags"] == ["castle", "space"]
    assert valid({**MOC, "tags": ['["Castle", "space"]']})["tags"] == ["castle", "space"]
    assert valid({**MOC, "tags": "castle"})["tags"] == ["castle"]


@pytest.mark.parametrize("raw", ['["a",', '["a"] x', "[1]", '[["a"]]', "[", ['["a",']])
def test_tags_value_starting_with_a_bracket_must_parse(raw):
    assert errors_of({**MOC, "tags": raw}) == {"tags": ["Must be a JSON array of strings."]}


@pytest.mark.parametrize("tag", ["a\x00b", "a\ud800b"])
def test_tags_follow_the_text_rule_even_without_the_parser(tag):
    assert "tags" in errors_of({**MOC, "tags": ["ok", tag]})


@pytest.mark.django_db
def test_update_type_is_immutable():
    moc = MocFactory()
    assert errors_of({"type": "set"}, instance=moc) == {"type": ["type cannot be changed"]}
    assert valid({"type": "moc", "title": "Renamed"}, instance=moc) == {"title": "Renamed"}


@pytest.mark.django_db
def test_update_is_partial_and_checks_the_stored_type():
    lego_set = SetFactory()
    assert valid({"releaseYear": 2001}, instance=lego_set) == {"release_year": 2001}
    assert errors_of({"author": "Jane"}, instance=lego_set) == {"author": ["Not allowed for type set"]}


@pytest.mark.django_db
def test_update_required_fields_cannot_be_null():
    moc = MocFactory()
    errors = errors_of({"author": None, "partsCount": None, "theme": "", "title": None}, instance=moc)
    assert errors == {
        "author": ["This field may not be null."],
        "partsCount": ["This field may not be null."],
        "theme": ["This field may not be blank."],
        "title": ["This field may not be null."],
    }
    assert valid({"description": None, "subtheme": None, "tags": None}, instance=moc) == {
        "description": None,
        "subtheme": None,
        "tags": [],
    }
