"""Requests at the edges of what SPEC allows on the MOC routes (a NUL in a tag, a date out of range once in UTC, a
page beyond PostgreSQL's bigint offset): each once answered 500 instead of the 400 / 200 the SPEC gives."""

from __future__ import annotations

import pytest

from mocs.models import Moc
from tests.factories import MocFactory

pytestmark = pytest.mark.django_db

MOC = {"type": "moc", "title": "Coffee Truck", "author": "Jane", "partsCount": 328, "theme": "City", "setNumber": "M-1"}
# Beyond PostgreSQL's bigint OFFSET (2^63 - 1), yet only decimal digits, as §1.7 allows.
HUGE = "9" * 19


def assert_field_error(response, field: str) -> None:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["type"] == "VALIDATION_ERROR"
    assert error["message"] == "Validation failed"
    assert list(error["details"]["fields"]) == [field]


# --- §1.4 tags: a NUL character cannot be stored in jsonb ----------------------------------------------------------


def test_create_with_a_nul_in_a_tag_is_a_400_on_tags(api, owner):
    response = api.post("/api/mocs", {**MOC, "tags": ["space", "a\x00b"]}, format="json")

    assert_field_error(response, "tags")
    assert response.json()["error"]["details"]["fields"]["tags"] == ["Null characters are not allowed."]
    assert not Moc.objects.filter(user_id=owner).exists()


def test_update_with_a_nul_in_a_tag_is_a_400_on_tags(api, owner):
    moc = MocFactory(user_id=owner, tags=["space"])

    response = api.patch(f"/api/mocs/{moc.id}", {"tags": ["\x00"]}, format="json")

    assert_field_error(response, "tags")
    moc.refresh_from_db()
    assert moc.tags == ["space"]


# --- §1.5 uploadedDate: an offset that moves the value out of the representable range -----------------------------


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_uploaded_date_out_of_range_in_utc_is_a_400(api, owner, value):
    response = api.post("/api/mocs", {**MOC, "uploadedDate": value}, format="json")

    assert_field_error(response, "uploadedDate")
    assert not Moc.objects.filter(user_id=owner).exists()


# --- §1.7 / M1 / M3: a page past the end is empty with the real total, however far it is --------------------------


def test_search_alias_with_a_huge_from_is_an_empty_page(api, moc):

    response = api.get("/api/mocs/search", {"from": HUGE})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["data"] == []
    assert body["total"] == 1


def test_search_alias_with_a_query_and_a_huge_from_is_an_empty_page(api, owner):
    MocFactory(user_id=owner, title="Coffee Truck")

    response = api.get("/api/mocs/search", {"q": "truck", "from": HUGE, "size": 100})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["data"] == []
    assert body["total"] == 1


def test_list_search_with_a_huge_page_is_an_empty_page(api, owner):
    MocFactory(user_id=owner, title="Coffee Truck")

    response = api.get("/api/mocs", {"search": "truck", "page": HUGE})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["data"] == []
    assert body["total"] == 1
    assert body["totalPages"] == 1
