"""MOC routes M1-M6 (SPEC §4.2): owner success, another user's 403, anonymous 401, validation 400 with field
details, 404s, duplicate titles, the MOC/Set rules, PUT == PATCH, output format and completeness (§1.4, §1.5)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from mocs.models import Moc, MocFile, MocGalleryImage, MocPartsList
from tests.factories import (
    GalleryImageFactory,
    MocFactory,
    MocFileFactory,
    MocPartFactory,
    MocPartsListFactory,
    SetFactory,
)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MOC_KEYS = {
    "id",
    "userId",
    "type",
    "title",
    "description",
    "author",
    "partsCount",
    "theme",
    "subtheme",
    "uploadedDate",
    "brand",
    "setNumber",
    "releaseYear",
    "retired",
    "tags",
    "thumbnailUrl",
    "totalPieceCount",
    "createdAt",
    "updatedAt",
}
NEW_MOC = {
    "type": "moc",
    "title": "Coffee Truck",
    "author": "Jane Builder",
    "partsCount": 328,
    "theme": "City",
    "setNumber": "MOC-172552",
}
NEW_SET = {"type": "set", "title": "Assembly Square", "brand": "LEGO", "theme": "Modular", "setNumber": "10255"}


def field_errors(response) -> dict[str, list[str]]:
    return assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")["details"]["fields"]


def assert_moc_shape(data: dict) -> None:
    """Every column of §3.4 but search_vector, timestamps in the §1.5 format."""
    assert set(data) == MOC_KEYS
    for key in ("createdAt", "updatedAt"):
        assert TIMESTAMP.match(data[key]), data[key]
    if data["uploadedDate"] is not None:
        assert TIMESTAMP.match(data["uploadedDate"])
    assert isinstance(data["tags"], list)


# --- Authentication and unknown routes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/mocs"),
        ("post", "/api/mocs"),
        ("get", "/api/mocs/search"),
        ("get", f"/api/mocs/{uuid.uuid4()}"),
        ("patch", f"/api/mocs/{uuid.uuid4()}"),
        ("put", f"/api/mocs/{uuid.uuid4()}"),
        ("delete", f"/api/mocs/{uuid.uuid4()}"),
        ("get", "/api/mocs/parts-lists/summary"),
        ("get", "/api/mocs/stats/by-category"),
        ("get", "/api/mocs/stats/uploads-over-time"),
    ],
)
def test_anonymous_gets_401(anonymous, method, path):
    response = getattr(anonymous, method)(path)
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_malformed_id_is_route_not_found(api, method):
    assert_error(getattr(api, method)("/api/mocs/not-a-uuid"), 404, "NOT_FOUND", "Route not found")
    assert_error(getattr(api, method)("/api/mocs/12345"), 404, "NOT_FOUND", "Route not found")


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_missing_moc_is_404(api, method):
    response = getattr(api, method)(f"/api/mocs/{uuid.uuid4()}", {}, format="json")
    assert_error(response, 404, "NOT_FOUND", "MOC not found")


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_other_user_gets_403(other_api, moc, method):
    response = getattr(other_api, method)(f"/api/mocs/{moc.pk}", {"title": "Mine now"}, format="json")
    assert_error(response, 403, "FORBIDDEN", "You do not own this MOC")
    moc.refresh_from_db()
    assert moc.title != "Mine now"


def test_ownership_is_checked_before_the_body(other_api, moc):
    response = other_api.patch(f"/api/mocs/{moc.pk}", {"title": "", "type": "set"}, format="json")
    assert_error(response, 403, "FORBIDDEN")


def test_trailing_slash_is_accepted(api, moc):
    assert api.get("/api/mocs/").status_code == 200
    assert api.get(f"/api/mocs/{moc.pk}/").status_code == 200
    assert api.get("/api/mocs/search/").status_code == 200
    assert api.post("/api/mocs/", {**NEW_MOC, "title": "Slash"}, format="json").status_code == 201
    assert api.patch(f"/api/mocs/{moc.pk}/", {"title": "Slashed"}, format="json").status_code == 200
    assert api.delete(f"/api/mocs/{moc.pk}/").status_code == 200


def test_upper_case_id_names_the_same_moc(api, moc):
    response = api.get(f"/api/mocs/{str(moc.pk).upper()}")
    assert response.status_code == 200 and response.json()["data"]["id"] == str(moc.pk)


# --- M1 list ----------------------------------------------------------------------------------------------------


def test_list_shows_only_the_callers_mocs_newest_update_first(owner, api, other_user):
    now = timezone.now()
    old = MocFactory(user_id=owner, updated_at=now - dt.timedelta(days=2))
    new = SetFactory(user_id=owner, updated_at=now)
    same_a = MocFactory(user_id=owner, updated_at=now - dt.timedelta(days=1))
    same_b = MocFactory(user_id=owner, updated_at=now - dt.timedelta(days=1))
    MocFactory(user_id=other_user)
    body = api.get("/api/mocs").json()
    tie = sorted([str(same_a.pk), str(same_b.pk)])
    assert [m["id"] for m in body["data"]] == [str(new.pk), *tie, str(old.pk)]
    assert {k: body[k] for k in ("total", "page", "limit", "totalPages")} == {
        "total": 4,
        "page": 1,
        "limit": 20,
        "totalPages": 1,
    }
    for item in body["data"]:
        assert_moc_shape(item)


def test_list_paging(owner, api):
    for _ in range(5):
        MocFactory(user_id=owner)
    body = api.get("/api/mocs", {"page": 2, "limit": 2}).json()
    assert len(body["data"]) == 2 and body["total"] == 5 and body["page"] == 2 and body["totalPages"] == 3
    past_end = api.get("/api/mocs", {"page": 9, "limit": 2}).json()
    assert past_end["data"] == [] and past_end["total"] == 5


def test_list_of_nobody_is_empty(api):
    body = api.get("/api/mocs").json()
    assert body["data"] == [] and body["total"] == 0 and body["totalPages"] == 0


@pytest.mark.parametrize(
    "params,field",
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"page": "x"}, "page"), ({"page": 0}, "page")],
)
def test_list_bad_paging_is_400(api, params, field):
    assert field in field_errors(api.get("/api/mocs", params))


def test_list_filters_by_type_and_tag(owner, api):
    moc = MocFactory(user_id=owner, tags=["castle", "knights"])
    lego_set = SetFactory(user_id=owner, tags=["castle"])
    MocFactory(user_id=owner, tags=["space"])
    assert [m["id"] for m in api.get("/api/mocs", {"type": "set"}).json()["data"]] == [str(lego_set.pk)]
    tagged = {m["id"] for m in api.get("/api/mocs", {"tag": "Castle"}).json()["data"]}
    assert tagged == {str(moc.pk), str(lego_set.pk)}
    both = api.get("/api/mocs", {"tag": "castle", "type": "moc"}).json()["data"]
    assert [m["id"] for m in both] == [str(moc.pk)]


def test_list_bad_filters_are_400_on_their_field(api):
    errors = field_errors(api.get("/api/mocs", {"type": "kit", "tag": "t" * 51, "search": "s" * 201}))
    assert set(errors) == {"type", "tag", "search"}


def test_list_with_search_uses_the_search_service(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/mocs", {**NEW_MOC, "title": "Espresso Truck Unique"}, format="json")
        api.post("/api/mocs", {**NEW_MOC, "title": "Harbour Lighthouse"}, format="json")
    response = api.get("/api/mocs", {"search": "espresso"})
    assert response.status_code == 200
    assert response["X-Search-Backend"] == "opensearch"  # the harness runs OpenSearch (SPEC §9)
    assert [m["title"] for m in response.json()["data"]] == ["Espresso Truck Unique"]


def test_list_query_count_does_not_grow(owner, api, clock, django_assert_max_num_queries):
    """A COUNT and one page query, whatever the number of rows, files and parts lists."""

    def populate(count: int) -> None:
        for _ in range(count):
            moc = MocFactory(user_id=owner)
            MocFileFactory(moc=moc)
            MocPartFactory(parts_list__moc=moc)

    api.get("/api/mocs", {"limit": 1})  # the caller's first request also records their profile
    populate(1)
    with django_assert_max_num_queries(2):
        assert len(api.get("/api/mocs", {"limit": 100}).json()["data"]) == 1
    populate(49)
    with django_assert_max_num_queries(2):
        assert len(api.get("/api/mocs", {"limit": 99}).json()["data"]) == 50


# --- M2 create ----------------------------------------------------------------------------------------------------


def test_create_moc(owner, api):
    before = timezone.now()
    response = api.post("/api/mocs", {**NEW_MOC, "tags": [" Food ", "vehicle", "FOOD", ""]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "MOC created successfully"
    data = body["data"]
    assert_moc_shape(data)
    assert data["userId"] == owner and data["type"] == "moc" and data["title"] == "Coffee Truck"
    assert data["tags"] == ["food", "vehicle"]
    assert data["description"] is None and data["subtheme"] is None and data["thumbnailUrl"] is None
    assert data["brand"] is None and data["releaseYear"] is None and data["retired"] is None
    assert data["totalPieceCount"] is None
    uploaded = dt.datetime.fromisoformat(data["uploadedDate"].replace("Z", "+00:00"))
    assert uploaded >= before.replace(microsecond=(before.microsecond // 1000) * 1000)  # defaults to now
    assert Moc.objects.get(pk=data["id"]).search_vector is not None


def test_create_set_defaults_retired_to_false(api):
    response = api.post("/api/mocs", {**NEW_SET, "releaseYear": 2017}, format="json")
    assert response.status_code == 201
    data = response.json()["data"]
    assert_moc_shape(data)
    assert data["retired"] is False and data["releaseYear"] == 2017
    assert data["author"] is None and data["partsCount"] is None and data["uploadedDate"] is None


def test_create_ignores_unknown_and_read_only_keys(owner, api):
    forged = {
        **NEW_MOC,
        "id": str(uuid.uuid4()),
        "userId": "mallory",
        "createdAt": "2000-01-01T00:00:00Z",
        "totalPieceCount": 99,
        "colour": "red",
    }
    data = api.post("/api/mocs", forged, format="json").json()["data"]
    assert data["id"] != forged["id"] and data["userId"] == owner
    assert not data["createdAt"].startswith("2000") and data["totalPieceCount"] is None


def test_create_converts_timestamps_to_utc(api):
    data = api.post("/api/mocs", {**NEW_MOC, "uploadedDate": "2025-01-15T12:30:00+02:00"}, format="json").json()
    assert data["data"]["uploadedDate"] == "2025-01-15T10:30:00.000Z"
    other = api.post("/api/mocs", {**NEW_MOC, "title": "Date only", "uploadedDate": "2025-01-15"}, format="json")
    assert other.json()["data"]["uploadedDate"] == "2025-01-15T00:00:00.000Z"


def test_create_trims_text(api):
    data = api.post(
        "/api/mocs", {**NEW_MOC, "title": "  Spaced  ", "description": "   ", "subtheme": " Cafe "}, format="json"
    ).json()["data"]
    assert data["title"] == "Spaced" and data["description"] is None and data["subtheme"] == "Cafe"


def test_create_validation_errors_name_every_field(api):
    response = api.post(
        "/api/mocs", {"type": "moc", "title": " ", "partsCount": "many", "tags": ["x" * 51]}, format="json"
    )
    assert field_errors(response) == {
        "title": ["This field may not be blank."],
        "partsCount": ["A valid integer is required."],
        "tags": ["Each tag must be at most 50 characters."],
        "author": ["This field is required."],
        "theme": ["This field is required."],
        "setNumber": ["This field is required."],
    }


def test_create_requires_type(api):
    body = {k: v for k, v in NEW_MOC.items() if k != "type"}
    assert field_errors(api.post("/api/mocs", body, format="json")) == {"type": ["This field is required."]}


@pytest.mark.parametrize("field,value", [("brand", "LEGO"), ("releaseYear", 2020), ("retired", True)])
def test_create_moc_with_a_set_field_is_400(api, field, value):
    errors = field_errors(api.post("/api/mocs", {**NEW_MOC, field: value}, format="json"))
    assert errors == {field: ["Not allowed for type moc"]}


@pytest.mark.parametrize(
    "field,value", [("author", "Jane"), ("partsCount", 5), ("subtheme", "Cafe"), ("uploadedDate", "2025-01-01")]
)
def test_create_set_with_a_moc_field_is_400(api, field, value):
    errors = field_errors(api.post("/api/mocs", {**NEW_SET, field: value}, format="json"))
    assert errors == {field: ["Not allowed for type set"]}


@pytest.mark.parametrize(
    "body,field",
    [
        ({**NEW_MOC, "partsCount": 0}, "partsCount"),
        ({**NEW_MOC, "partsCount": 1_000_001}, "partsCount"),
        ({**NEW_MOC, "setNumber": "x" * 51}, "setNumber"),
        ({**NEW_MOC, "title": "x" * 256}, "title"),
        ({**NEW_MOC, "description": "x" * 5001}, "description"),
        ({**NEW_MOC, "thumbnailUrl": "not a url"}, "thumbnailUrl"),
        ({**NEW_MOC, "thumbnailUrl": "https://example.com/" + "a" * 2030}, "thumbnailUrl"),
        ({**NEW_MOC, "tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({**NEW_SET, "releaseYear": 1949}, "releaseYear"),
        ({**NEW_SET, "releaseYear": timezone.now().year + 3}, "releaseYear"),
    ],
)
def test_create_limits(api, body, field):
    assert list(field_errors(api.post("/api/mocs", body, format="json"))) == [field]


def test_create_duplicate_title_is_409(api, other_api):
    assert api.post("/api/mocs", NEW_MOC, format="json").status_code == 201
    response = api.post("/api/mocs", {**NEW_MOC, "title": "  Coffee Truck "}, format="json")
    assert_error(response, 409, "CONFLICT", "A MOC with this title already exists")
    assert other_api.post("/api/mocs", NEW_MOC, format="json").status_code == 201  # titles are unique per user only


def test_create_needs_json(api):
    response = api.post("/api/mocs", NEW_MOC)  # multipart
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")


def test_create_body_must_be_an_object(api):
    response = api.post("/api/mocs", [NEW_MOC], format="json")
    assert "nonFieldErrors" in field_errors(response)


# --- M3 search alias ------------------------------------------------------------------------------------------------


def test_search_alias_without_q_lists_everything_in_m1_order(owner, api, other_user):
    now = timezone.now()
    mocs = [MocFactory(user_id=owner, updated_at=now - dt.timedelta(minutes=i)) for i in range(5)]
    MocFactory(user_id=other_user)
    body = api.get("/api/mocs/search", {"from": 2, "size": 2}).json()
    assert [m["id"] for m in body["data"]] == [str(mocs[2].pk), str(mocs[3].pk)]
    assert {k: body[k] for k in ("total", "page", "limit", "totalPages")} == {
        "total": 5,
        "page": 2,
        "limit": 2,
        "totalPages": 3,
    }


def test_search_alias_page_is_derived_from_from_and_size(owner, api):
    for _ in range(3):
        MocFactory(user_id=owner)
    body = api.get("/api/mocs/search", {"from": 1, "size": 2}).json()
    assert body["page"] == 1 and body["limit"] == 2 and len(body["data"]) == 2


def test_search_alias_with_q(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/mocs", {**NEW_MOC, "title": "Lighthouse Keeper Cottage"}, format="json")
        api.post("/api/mocs", {**NEW_MOC, "title": "Space Freighter"}, format="json")
    response = api.get("/api/mocs/search", {"q": "lighthouse"})
    assert response.status_code == 200 and response["X-Search-Backend"] == "opensearch"
    assert [m["title"] for m in response.json()["data"]] == ["Lighthouse Keeper Cottage"]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"size": 0}, "size"),
        ({"size": 101}, "size"),
        ({"from": -1}, "from"),
        ({"from": "x"}, "from"),
        ({"q": "q" * 201}, "q"),
    ],
)
def test_search_alias_bad_params_are_400(api, params, field):
    assert list(field_errors(api.get("/api/mocs/search", params))) == [field]


# --- M4 detail ---------------------------------------------------------------------------------------------------------


def test_owner_gets_the_detail(api, moc):
    ready = MocFileFactory(moc=moc)
    MocFileFactory(moc=moc, status="pending")
    thumbnail = MocFileFactory(moc=moc, file_type="thumbnail", mime_type="image/png", original_filename="t.png")
    parts_list = MocPartsListFactory(moc=moc)
    response = api.get(f"/api/mocs/{moc.pk}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == MOC_KEYS | {"files", "images", "partsLists"}
    assert {f["id"] for f in data["files"]} == {str(ready.pk), str(thumbnail.pk)}  # ready files only
    assert [i["id"] for i in data["images"]] == [str(thumbnail.pk)]
    assert [p["id"] for p in data["partsLists"]] == [str(parts_list.pk)]


def test_detail_query_count_does_not_grow(owner, api, clock, django_assert_max_num_queries):
    """The MOC, its files, its parts lists and its linked gallery images: four queries, with 1 or 50 of each."""
    api.get("/api/mocs")  # the caller's first request also records their profile
    for count in (1, 50):
        moc = MocFactory(user_id=owner)
        for _ in range(count):
            MocFileFactory(moc=moc)
            MocPartFactory(parts_list__moc=moc)
            MocGalleryImage.objects.create(moc=moc, gallery_image=GalleryImageFactory(user_id=owner))
        with django_assert_max_num_queries(4):
            data = api.get(f"/api/mocs/{moc.pk}").json()["data"]
        assert len(data["files"]) == count and len(data["partsLists"]) == count
        assert len([ref for ref in data["images"] if ref["source"] == "gallery"]) == count


# --- M5 update ----------------------------------------------------------------------------------------------------------


def test_owner_updates_part_of_a_moc(owner, api):
    moc = MocFactory(user_id=owner, updated_at=timezone.now() - dt.timedelta(days=1), description="Old")
    response = api.patch(f"/api/mocs/{moc.pk}", {"title": "Renamed", "tags": ["New", "new"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "MOC updated successfully"
    assert_moc_shape(body["data"])
    assert body["data"]["title"] == "Renamed" and body["data"]["tags"] == ["new"]
    assert body["data"]["description"] == "Old" and body["data"]["author"] == moc.author
    moc.refresh_from_db()
    assert moc.title == "Renamed" and moc.updated_at > timezone.now() - dt.timedelta(minutes=1)


def test_put_is_a_partial_update_like_patch(owner, api):
    first = MocFactory(user_id=owner, description="Keep me")
    second = MocFactory(user_id=owner, description="Keep me")
    via_put = api.put(f"/api/mocs/{first.pk}", {"theme": "Space"}, format="json").json()["data"]
    via_patch = api.patch(f"/api/mocs/{second.pk}", {"theme": "Space"}, format="json").json()["data"]
    for data in (via_put, via_patch):
        assert data["theme"] == "Space" and data["description"] == "Keep me" and data["title"]


def test_update_type_cannot_be_changed(api, moc):
    errors = field_errors(api.patch(f"/api/mocs/{moc.pk}", {"type": "set"}, format="json"))
    assert errors == {"type": ["type cannot be changed"]}
    assert api.patch(f"/api/mocs/{moc.pk}", {"type": "moc"}, format="json").status_code == 200


def test_update_checks_the_stored_type(owner, api):
    lego_set = SetFactory(user_id=owner)
    errors = field_errors(api.patch(f"/api/mocs/{lego_set.pk}", {"partsCount": 100}, format="json"))
    assert errors == {"partsCount": ["Not allowed for type set"]}
    ok = api.patch(f"/api/mocs/{lego_set.pk}", {"retired": True, "releaseYear": 2001}, format="json")
    assert ok.json()["data"]["retired"] is True and ok.json()["data"]["releaseYear"] == 2001


def test_update_required_fields_cannot_be_null(api, moc):
    errors = field_errors(api.patch(f"/api/mocs/{moc.pk}", {"author": None, "theme": "  "}, format="json"))
    assert errors == {"author": ["This field may not be null."], "theme": ["This field may not be blank."]}


def test_update_optional_fields_can_be_cleared(owner, api):
    moc = MocFactory(user_id=owner, subtheme="Cafe", thumbnail_url="https://example.com/t.png")
    data = api.patch(
        f"/api/mocs/{moc.pk}", {"subtheme": "", "thumbnailUrl": None, "tags": None, "description": None}, format="json"
    ).json()["data"]
    assert (
        data["subtheme"] is None and data["thumbnailUrl"] is None and data["tags"] == [] and data["description"] is None
    )


def test_update_duplicate_title_is_409(owner, api):
    MocFactory(user_id=owner, title="Taken")
    moc = MocFactory(user_id=owner, title="Mine")
    response = api.patch(f"/api/mocs/{moc.pk}", {"title": "Taken"}, format="json")
    assert_error(response, 409, "CONFLICT", "A MOC with this title already exists")
    assert api.patch(f"/api/mocs/{moc.pk}", {"title": "Mine"}, format="json").status_code == 200


def test_update_ignores_read_only_keys(owner, api, moc):
    data = api.patch(
        f"/api/mocs/{moc.pk}", {"userId": "mallory", "id": str(uuid.uuid4()), "totalPieceCount": 5}, format="json"
    ).json()["data"]
    assert data["userId"] == owner and data["id"] == str(moc.pk) and data["totalPieceCount"] is None


# --- M6 delete -----------------------------------------------------------------------------------------------------------


def test_owner_deletes_a_moc_with_its_children(api, moc):
    MocFileFactory(moc=moc)
    MocPartFactory(parts_list__moc=moc)
    response = api.delete(f"/api/mocs/{moc.pk}")
    assert response.status_code == 200
    assert response.json()["data"] == {"id": str(moc.pk)}
    assert response.json()["message"] == "MOC deleted successfully"
    assert not Moc.objects.filter(pk=moc.pk).exists()
    assert not MocFile.objects.filter(moc_id=moc.pk).exists()
    assert not MocPartsList.objects.filter(moc_id=moc.pk).exists()
    assert_error(api.get(f"/api/mocs/{moc.pk}"), 404, "NOT_FOUND", "MOC not found")
