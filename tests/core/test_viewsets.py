"""The core owned viewset and router (SPEC §1.6, §1.9): tested through a probe viewset over the Moc table, mounted
by this module's own URLconf (a test-only model would need a migration), and through the MOC viewset itself.

The probe is the smallest resource the core allows: a queryset, serializers, a label and its cache keys, plus one
`@action` of each kind."""

from __future__ import annotations

import uuid

import django_filters
import pytest
from django.urls import include, re_path
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.views import APIView

from lego_api.core.envelope import success
from lego_api.core.ownership import forbidden_message, not_found_message
from lego_api.core.query import TextFilter
from lego_api.core.routers import Router, literal_first
from lego_api.core.search import SearchResult
from lego_api.core.viewsets import OwnedViewSet, ResponseCache
from lego_api.urls import handler400, handler403, handler404, handler500  # noqa: F401 - the envelope for a 404
from mocs.models import Moc
from tests.factories import MocFactory
from tests.helpers import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

PROBE_CACHE = ResponseCache(family="mocs", list="probes:list", detail="probes:detail")


class ProbeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Moc
        fields = ["id", "user_id", "title", "description"]


class ProbeWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    description = serializers.CharField()  # required: a partial update may still leave it out


class ProbeViewSet(OwnedViewSet):
    queryset = Moc.objects.order_by("title", "id")
    serializer_class = ProbeSerializer
    write_serializer_class = ProbeWriteSerializer
    label = "probe item"
    cache = PROBE_CACHE

    def perform_create(self, payload):
        required = {"author": "Probe", "parts_count": 1, "theme": "Probe", "set_number": "P-1"}  # MOC type rules
        return Moc.objects.create(user_id=self.request.user.id, type="moc", **required, **payload.validated_data)

    def perform_update(self, payload):
        for name, value in payload.validated_data.items():
            setattr(payload.instance, name, value)
        payload.instance.save(update_fields=list(payload.validated_data))
        return payload.instance

    def perform_destroy(self, instance):
        instance.delete()

    @action(detail=False, url_path="newest")
    def newest(self, request):
        return success({"route": "newest"})

    @action(detail=True, methods=["post"], url_path="copies/{copy_id}")
    def copy(self, request, id, copy_id):
        self.get_object()
        return success({"route": "copy", "copyId": copy_id})


class SearchingProbeFilter(django_filters.FilterSet):
    search = TextFilter(method="answered_by_search_rows", max_length=200)

    class Meta:
        model = Moc
        fields = ["search"]

    def answered_by_search_rows(self, queryset, name, value):
        return queryset


class SearchingProbeViewSet(ProbeViewSet):
    """The probe with a `search` filter: a search text lists the page of `search_rows`."""

    filterset_class = SearchingProbeFilter
    cache = ResponseCache(family="mocs", list="probes:list", search="probes:search", detail="probes:detail")

    def search_rows(self, params, *, offset, limit):
        found = list(
            Moc.objects.filter(user_id=self.request.user.id, title__icontains=params["search"]).order_by("title")
        )
        return SearchResult(rows=found[offset : offset + limit], total=len(found), backend="postgres")


class ProbeLiteralView(APIView):
    def get(self, request):
        return success({"route": "literal"})


router = Router()
router.register("probes", ProbeViewSet, basename="probe")
router.register("searching-probes", SearchingProbeViewSet, basename="searching-probe")
router.add("probes/literal", ProbeLiteralView.as_view(), "probe-literal")  # added after the id routes
urlpatterns = [re_path(r"^api/", include(router.urls)), re_path(r"^", include("lego_api.urls"))]


def probe_of(user_id: str, **fields) -> Moc:
    return MocFactory(user_id=user_id, **fields)


def allowed(response) -> set[str]:
    return {method.strip() for method in response["Allow"].split(",")}


# --- Scope and ownership ---------------------------------------------------------------------------------------------


def test_list_shows_only_the_callers_rows(api, owner, other_user):
    mine = probe_of(owner, title="Mine")
    probe_of(other_user, title="Theirs")
    response = api.get("/api/probes")
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["data"]] == [str(mine.pk)]
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (1, 1, 20, 1)


def test_a_search_text_lists_the_page_of_search_rows_with_its_backend(api, owner):
    for title in ("Red Truck", "Blue Truck", "Tower"):
        probe_of(owner, title=title)
    response = api.get("/api/searching-probes", {"search": "truck", "limit": 1, "page": 2})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["title"] for row in body["data"]] == ["Red Truck"]
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (2, 2, 1, 2)
    assert response["X-Search-Backend"] == "postgres"
    assert api.get("/api/searching-probes", {"search": "truck", "limit": 1, "page": 2})["X-Cache"] == "HIT"


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_missing_row_is_404_with_the_label(api, method):
    response = getattr(api, method)(f"/api/probes/{uuid.uuid4()}", {"title": "x"}, format="json")
    assert_error(response, 404, "NOT_FOUND", "Probe item not found")


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_other_users_row_is_403_with_the_label(other_api, owner, method):
    probe = probe_of(owner, title="Kept")
    response = getattr(other_api, method)(f"/api/probes/{probe.pk}", {"title": "Taken"}, format="json")
    assert_error(response, 403, "FORBIDDEN", "You do not own this probe item")
    probe.refresh_from_db()
    assert probe.title == "Kept"


def test_other_users_row_is_403_on_a_detail_action_too(other_api, owner):
    probe = probe_of(owner)
    response = other_api.post(f"/api/probes/{probe.pk}/copies/{uuid.uuid4()}")
    assert_error(response, 403, "FORBIDDEN", "You do not own this probe item")


def test_messages_spell_the_label_as_spec_does():
    assert not_found_message("MOC") == "MOC not found"
    assert not_found_message("wishlist item") == "Wishlist item not found"
    assert forbidden_message("image") == "You do not own this image"


# --- Writes ----------------------------------------------------------------------------------------------------------


def test_create_answers_201_with_the_labelled_message(api, owner):
    response = api.post("/api/probes", {"title": "New", "description": "Fresh"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Probe item created successfully"
    assert body["data"]["userId"] == owner and body["data"]["title"] == "New"


def test_create_validates_with_the_write_serializer(api):
    response = api.post("/api/probes", {"title": "No description"}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"]["fields"] == {"description": ["This field is required."]}


@pytest.mark.parametrize("method", ["patch", "put"])
def test_patch_and_put_are_both_partial(api, owner, method):
    probe = probe_of(owner, title="Before", description="Kept as it was")
    response = getattr(api, method)(f"/api/probes/{probe.pk}", {"title": "After"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Probe item updated successfully"
    assert body["data"]["title"] == "After" and body["data"]["description"] == "Kept as it was"


def test_delete_answers_200_with_the_id(api, owner):
    probe = probe_of(owner)
    response = api.delete(f"/api/probes/{probe.pk}")
    assert response.status_code == 200
    assert response.json()["data"] == {"id": str(probe.pk)}
    assert response.json()["message"] == "Probe item deleted successfully"
    assert not Moc.objects.filter(pk=probe.pk).exists()


# --- Cache -----------------------------------------------------------------------------------------------------------


def test_list_and_detail_are_served_through_the_response_cache(api, owner):
    probe = probe_of(owner)
    for path in ("/api/probes", f"/api/probes/{probe.pk}"):
        assert api.get(path)["X-Cache"] == "MISS"
        assert api.get(path)["X-Cache"] == "HIT"


def test_upper_case_id_names_the_same_cache_entry(api, owner):
    probe = probe_of(owner)
    assert api.get(f"/api/probes/{probe.pk}")["X-Cache"] == "MISS"
    response = api.get(f"/api/probes/{str(probe.pk).upper()}")
    assert response["X-Cache"] == "HIT" and response.json()["data"]["id"] == str(probe.pk)


# --- Router: SPEC §1.6 path rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/probes/not-a-uuid", "/api/probes/12345/", "/api/probes/not-a-uuid/copies/x"])
def test_non_uuid_id_is_route_not_found(api, path):
    assert_error(api.get(path), 404, "NOT_FOUND", "Route not found")


def test_non_uuid_id_in_an_action_path_is_route_not_found(api, owner):
    probe = probe_of(owner)
    assert_error(api.post(f"/api/probes/{probe.pk}/copies/not-a-uuid"), 404, "NOT_FOUND", "Route not found")
    copy_id = str(uuid.uuid4())
    response = api.post(f"/api/probes/{probe.pk}/copies/{copy_id}/")
    assert response.status_code == 200 and response.json()["data"] == {"route": "copy", "copyId": copy_id}


@pytest.mark.parametrize("suffix", ["", "/"])
def test_trailing_slash_is_optional_with_no_redirect(api, owner, suffix):
    probe = probe_of(owner)
    for path in ("/api/probes", f"/api/probes/{probe.pk}", "/api/probes/newest", "/api/probes/literal"):
        response = api.get(path + suffix)
        assert response.status_code == 200, path + suffix
    assert api.patch(f"/api/probes/{probe.pk}{suffix}", {"title": "Slash"}, format="json").status_code == 200


def test_literal_segments_are_served_by_their_own_views(api):
    assert api.get("/api/probes/newest").json()["data"] == {"route": "newest"}
    assert api.get("/api/probes/literal").json()["data"] == {"route": "literal"}


def test_router_puts_literal_segments_before_ids_whatever_the_registration_order():
    names = [pattern.name for pattern in router.urls]
    assert names.index("probe-literal") < names.index("probe-detail")
    assert names.index("probe-newest") < names.index("probe-detail")
    assert names.index("probe-list") < names.index("probe-literal")
    assert sorted(["mocs/{id}", "mocs/search", "mocs"], key=literal_first) == ["mocs", "mocs/search", "mocs/{id}"]


@pytest.mark.parametrize(
    "path_of,served",
    [
        (lambda probe: "/api/probes", {"GET", "HEAD", "POST"}),
        (lambda probe: f"/api/probes/{probe.pk}", {"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
        (lambda probe: "/api/probes/newest", {"GET", "HEAD"}),
        (lambda probe: f"/api/probes/{probe.pk}/copies/{uuid.uuid4()}", {"POST"}),
    ],
)
def test_other_methods_are_405_with_allow(api, owner, path_of, served):
    path = path_of(probe_of(owner))
    for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - served:
        response = api.generic(method, path)
        assert_error(response, 405, "METHOD_NOT_ALLOWED")
        assert allowed(response) == served, f"{method} {path}"


# --- The MOC viewset on the same core --------------------------------------------------------------------------------


def test_moc_routes_keep_their_names_and_paths():
    from mocs.urls import urlpatterns

    names = [pattern.name for pattern in urlpatterns]
    assert names.index("moc-search") < names.index("moc-detail")
    assert names.index("moc-create-with-files") < names.index("moc-detail")
    assert names.index("moc-stats-by-category") < names.index("moc-detail")


@pytest.mark.parametrize("method", ["patch", "put"])
def test_moc_patch_and_put_are_both_partial(api, owner, method):
    moc = MocFactory(user_id=owner, title="Before", description="Kept")
    response = getattr(api, method)(f"/api/mocs/{moc.pk}/", {"title": "After"}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["title"] == "After" and response.json()["data"]["description"] == "Kept"


def test_moc_viewset_answers_403_and_404_with_the_moc_label(other_api, owner):
    moc = MocFactory(user_id=owner)
    assert_error(other_api.delete(f"/api/mocs/{moc.pk}"), 403, "FORBIDDEN", "You do not own this MOC")
    assert_error(other_api.delete(f"/api/mocs/{uuid.uuid4()}"), 404, "NOT_FOUND", "MOC not found")
    assert_error(other_api.delete("/api/mocs/search-is-no-id"), 404, "NOT_FOUND", "Route not found")


def test_moc_operations_have_readable_operation_ids():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    ids = {
        (method, path): operation["operationId"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert ids[("get", "/api/mocs")] == "mocs_list"
    assert ids[("post", "/api/mocs")] == "mocs_create"
    assert ids[("get", "/api/mocs/{id}")] == "mocs_retrieve"
    assert ids[("patch", "/api/mocs/{id}")] == "mocs_partial_update"
    assert ids[("put", "/api/mocs/{id}")] == "mocs_update"
    assert ids[("delete", "/api/mocs/{id}")] == "mocs_destroy"
    assert len(set(ids.values())) == len(ids)
