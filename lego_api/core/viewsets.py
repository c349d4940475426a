"""The owned viewset: CRUD over a resource private to its owner (SPEC §1.9), the way every app serves one.

A resource states what it is, and the viewset does the rest:

    class MocViewSet(OwnedViewSet):
        queryset = Moc.objects.order_by("-updated_at", "id")
        serializer_class = MocSerializer  # output; `retrieve_serializer_class` and `write_serializer_class` too
        label = "MOC"  # `MOC not found`, `You do not own this MOC`, `MOC created successfully`
        cache = ResponseCache(family="mocs", list="mocs:list", detail="mocs:detail")

        def perform_create(self, payload): return moc_create(user_id=self.request.user.id, data=payload.validated_data)
        ...

- **Scope:** the list shows only the caller's rows; a path id is looked up unscoped, so that a missing row is 404
  `{Label} not found` and another user's is 403 `You do not own this {label}` (`lego_api.core.ownership`).
- **Methods:** GET list, POST create (201), GET retrieve, PATCH and PUT (both partial, SPEC §1.6), DELETE (200
  `{id}`); each write answers the success envelope with `{Label} created|updated|deleted successfully`.
- **Cache:** list and retrieve go through the response cache (SPEC §6.1) under the resource's key names; with a
  search text (the filterset's `search`), the list is the page of `search_rows()` under the search key. A resource
  without a search key (albums) filters by the text like by any other filter, under the list key. A query string
  this process has validated is not validated again (`valid_query`): a hit builds no FilterSet.
- **Writes:** `perform_create`, `perform_update` and `perform_destroy` each make one service call; the service owns
  the after-commit effects (cache bump, search index, storage deletes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Model, QuerySet
from django_filters.utils import translate_validation
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from lego_api.core.cache import CachedResult, cached_success
from lego_api.core.envelope import success
from lego_api.core.ownership import get_owned, sentence_label
from lego_api.core.pagination import page_meta
from lego_api.core.query import query_params

if TYPE_CHECKING:
    from lego_api.core.search import SearchResult

SEARCH_PARAMETER = "search"
VALID_QUERIES_MAX = 1024  # per process; cleared when full
_valid_queries: dict[tuple[type, str | None, str], dict[str, Any]] = {}


@dataclass(frozen=True)
class ResponseCache:
    """Where a resource's GET results are cached (the SPEC §6.1 key table): key names, the family a write bumps,
    the other families the detail depends on, and the TTLs."""

    family: str
    list: str
    detail: str
    search: str | None = None
    detail_families: tuple[str, ...] = ()
    list_ttl: int = 300
    search_ttl: int = 120
    detail_ttl: int = 600


# A delete's `data`: the id of the row that went. A resource names its own subclass for the schema's component.
# No docstring: drf-spectacular would publish it as the description of every subclass.
class DeletedSerializer(serializers.Serializer):
    id = serializers.UUIDField()


class OwnedViewSet(GenericViewSet):
    """CRUD over rows with an owner column; see the module docstring. Subclasses set `queryset`,
    `serializer_class` (output; `retrieve_serializer_class` and `deleted_serializer_class` where they differ),
    `write_serializer_class` (input), `label` and `cache`, and the perform_* hooks."""

    label: str
    cache: ResponseCache
    write_serializer_class: type[serializers.Serializer]
    retrieve_serializer_class: type[serializers.Serializer] | None = None
    deleted_serializer_class: type[serializers.Serializer] = DeletedSerializer
    owner_field = "user_id"
    lookup_url_kwarg = "id"
    lower_case_filters: tuple[str, ...] = ()  # filters matched lower-cased, e.g. `tag` (tags are, SPEC §1.4)

    # --- Scope and lookup ---------------------------------------------------------------------------------------

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no caller
            return queryset.none()
        if self.action == "list":
            return queryset.filter(**{self.owner_field: self.request.user.id})
        # Not scoped: another user's row must answer 403, not 404 (SPEC §1.9); get_object() decides.
        return queryset

    def path_id(self) -> str:
        """The path id, canonical (lower-case), so that it names one cache entry whatever its case."""
        return str(UUID(self.kwargs[self.lookup_url_kwarg]))

    def get_object(self) -> Model:
        return get_owned(
            self.get_queryset(),
            self.path_id(),
            user_id=self.request.user.id,
            label=self.label,
            owner_field=self.owner_field,
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "retrieve" and self.retrieve_serializer_class is not None:
            return self.retrieve_serializer_class
        return super().get_serializer_class()

    def get_write_serializer(self, *args: Any, **kwargs: Any) -> serializers.Serializer:
        return self.write_serializer_class(*args, context=self.get_serializer_context(), **kwargs)

    def message(self, verb: str) -> str:
        return f"{sentence_label(self.label)} {verb} successfully"

    def cached(self, name: str, *, ttl: int, compute, families: tuple[str, ...] = (), **key: Any) -> Response:
        """A 200 success served through the response cache under `name` for the caller (`X-Cache`)."""
        return cached_success(
            name=name,
            user_id=self.request.user.id,
            families=(self.cache.family, *families),
            ttl=ttl,
            compute=compute,
            **key,
        )

    # --- Reads --------------------------------------------------------------------------------------------------

    def list_params(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """The filters as they key the cache and reach `search_page()`: every filter, None when not given (a boolean
        filter's `false` is a value, not an absence); those in `lower_case_filters` lower-cased."""
        params = {name: None if value is None or value == "" else value for name, value in cleaned.items()}
        for name in self.lower_case_filters:
            if params.get(name):
                params[name] = params[name].lower()
        return params

    def valid_query(self, request: Request, validate: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """`validate()`'s parameters for this query string (it raises the 400 for a bad one), remembered per view
        and action: validation is a function of the query string alone, and a hit should not pay a FilterSet's
        construction and form cleaning again for a query this process has already validated."""
        key = (type(self), self.action, request.META.get("QUERY_STRING", ""))
        params = _valid_queries.get(key)
        if params is None:
            params = validate()
            if len(_valid_queries) >= VALID_QUERIES_MAX:
                _valid_queries.clear()
            _valid_queries[key] = params
        return dict(params)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filtered: list[QuerySet] = []  # the filterset's queryset, when this request validated the query

        def validate() -> dict[str, Any]:
            queryset, cleaned = self.filter_queryset_by_query(request)
            filtered.append(queryset)
            page, limit = self.paginator.get_page_params(request)
            return {"page": page, "limit": limit, **self.list_params(cleaned)}

        params = self.valid_query(request, validate)
        if params.get(SEARCH_PARAMETER) and self.cache.search:
            return self.cached(
                self.cache.search, ttl=self.cache.search_ttl, params=params, compute=lambda: self.search_page(params)
            )

        def compute() -> CachedResult:
            queryset = filtered[0] if filtered else self.filter_queryset_by_query(request)[0]
            rows = self.paginator.paginate_queryset(queryset, request, view=self)
            return CachedResult(
                data=self.get_serializer(rows, many=True).data,
                meta=page_meta(self.paginator.total, params["page"], params["limit"]),
            )

        return self.cached(self.cache.list, ttl=self.cache.list_ttl, params=params, compute=compute)

    def filter_queryset_by_query(self, request: Request) -> tuple[QuerySet, dict[str, Any]]:
        """The caller's rows filtered by the query's filters, and the filters' cleaned values; 400 for a bad one."""
        queryset = self.get_queryset()
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is None:
            return queryset, {}
        filterset = filterset_class(query_params(request), queryset=queryset, request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return filterset.qs, filterset.form.cleaned_data

    def search_page(self, params: dict[str, Any]) -> CachedResult:
        """The list's page for a search text (`params` as `list_params` made them, plus `page` and `limit`): the rows
        `search_rows` finds, with the page meta and `X-Search-Backend`."""
        page, limit = params["page"], params["limit"]
        result = self.search_rows(params, offset=(page - 1) * limit, limit=limit)
        return CachedResult(
            data=self.get_serializer(result.rows, many=True).data,
            meta=page_meta(result.total, page, limit),
            headers={"X-Search-Backend": result.backend},
        )

    def search_rows(self, params: dict[str, Any], *, offset: int, limit: int) -> SearchResult:
        """The caller's rows matching `params["search"]` and the other filters, `[offset, offset+limit)`: the
        resource's search (`lego_api.core.search.search` on its index)."""
        raise NotImplementedError(f"{type(self).__name__} has a search filter but no search_rows()")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.cached(
            self.cache.detail,
            ttl=self.cache.detail_ttl,
            families=self.cache.detail_families,
            parts=(self.path_id(),),
            compute=lambda: CachedResult(data=self.get_serializer(self.get_object()).data),
        )

    # --- Writes -------------------------------------------------------------------------------------------------

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_write_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        instance = self.perform_create(payload)
        return success(self.get_serializer(instance).data, message=self.message("created"), status=201)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """PATCH and PUT: both partial (SPEC §1.6)."""
        instance = self.get_object()
        payload = self.get_write_serializer(instance, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        instance = self.perform_update(payload)
        return success(self.get_serializer(instance).data, message=self.message("updated"))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        pk = instance.pk
        self.perform_destroy(instance)
        return success(self.deleted_serializer_class({"id": pk}).data, message=self.message("deleted"))

    def perform_create(self, payload: serializers.Serializer) -> Model:
        """One service call that creates the row from `payload.validated_data`; returns it."""
        raise NotImplementedError

    def perform_update(self, payload: serializers.Serializer) -> Model:
        """One service call that applies `payload.validated_data` to `payload.instance`; returns the row."""
        raise NotImplementedError

    def perform_destroy(self, instance: Model) -> None:
        """One service call that deletes the row."""
        raise NotImplementedError
