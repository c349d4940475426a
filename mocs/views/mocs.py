"""MOC routes (SPEC §4.2): the MOC viewset (list and create M1, M2; detail, update and delete M4-M6), the search
alias (M3) and the statistics (M26-M28). GET results go through the response cache (SPEC §6.1)."""

from __future__ import annotations

import math
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lego_api.core.cache import CachedResult, cached_success
from lego_api.core.query import query_int, query_text
from lego_api.core.schema import CACHE_HEADERS, SEARCH_HEADERS, envelope, update_operations
from lego_api.core.viewsets import OwnedViewSet, ResponseCache
from mocs.filters import MocFilter
from mocs.models import Moc
from mocs.search import SearchResult, search_mocs
from mocs.serializers import MocDeletedSerializer, MocDetailSerializer, MocSerializer, MocWriteSerializer
from mocs.serializers.stats import (
    CategoryCountSerializer,
    MonthCategoryCountSerializer,
    PartsListsSummarySerializer,
)
from mocs.services.mocs import MOC_LABEL, moc_create, moc_delete, moc_detail_queryset, moc_update
from mocs.services.stats import stats_by_category, stats_parts_lists_summary, stats_uploads_over_time

# The SPEC §6.1 key table. MocDetail lists linked gallery images, so a gallery write makes it stale too.
MOC_CACHE = ResponseCache(
    family="mocs", list="mocs:list", search="mocs:search", detail="mocs:detail", detail_families=("gallery",)
)
STATS_TTL = 300
SEARCH_MAX_LENGTH = 200

DELETED = envelope(MocDeletedSerializer, message=True, name="MocDeletedEnvelope")


LIST_CREATE_DESCRIPTION = "M1 `GET /api/mocs` and M2 `POST /api/mocs`."
DETAIL_DESCRIPTION = "M4 `GET`, M5 `PATCH|PUT` (both partial) and M6 `DELETE` `/api/mocs/{id}`."
UPDATED = envelope(MocSerializer, message=True)


@extend_schema_view(
    list=extend_schema(
        summary="List the caller's MOCs (M1)",
        description=LIST_CREATE_DESCRIPTION,
        parameters=SEARCH_HEADERS,
        responses={200: MocSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Create a MOC or set (M2)",
        description=LIST_CREATE_DESCRIPTION,
        request=MocWriteSerializer,
        responses={201: envelope(MocSerializer, message=True)},
    ),
    retrieve=extend_schema(
        summary="A MOC with its files, images and parts lists (M4)",
        description=DETAIL_DESCRIPTION,
        parameters=CACHE_HEADERS,
        responses={200: envelope(MocDetailSerializer)},
    ),
    **update_operations(
        summary="Update a MOC", route="M5", description=DETAIL_DESCRIPTION, request=MocWriteSerializer, response=UPDATED
    ),
    destroy=extend_schema(summary="Delete a MOC (M6)", description=DETAIL_DESCRIPTION, responses={200: DELETED}),
)
class MocViewSet(OwnedViewSet):
    """M1 `GET` and M2 `POST /api/mocs`; M4 `GET`, M5 `PATCH|PUT` (both partial) and M6 `DELETE /api/mocs/{id}`."""

    queryset = Moc.objects.defer("search_vector").order_by("-updated_at", "id")
    serializer_class = MocSerializer
    retrieve_serializer_class = MocDetailSerializer
    deleted_serializer_class = MocDeletedSerializer
    write_serializer_class = MocWriteSerializer
    filterset_class = MocFilter
    label = MOC_LABEL
    cache = MOC_CACHE
    lower_case_filters = ("tag",)
    declared_errors = {"POST": (409,), "PATCH": (409,), "PUT": (409,)}  # duplicate title (lego_api.core.openapi)

    def get_queryset(self) -> QuerySet[Moc]:
        if self.action == "retrieve" and not getattr(self, "swagger_fake_view", False):
            return moc_detail_queryset()  # files and parts lists in one query each, however many there are
        return super().get_queryset()

    def search_rows(self, params: dict[str, Any], *, offset: int, limit: int) -> SearchResult[Moc]:
        return search_mocs(
            user_id=self.request.user.id,
            q=params["search"],
            moc_type=params["type"],
            tag=params["tag"],
            offset=offset,
            limit=limit,
        )

    def perform_create(self, payload: MocWriteSerializer) -> Moc:
        return moc_create(user_id=self.request.user.id, data=payload.validated_data)

    def perform_update(self, payload: MocWriteSerializer) -> Moc:
        return moc_update(moc=payload.instance, data=payload.validated_data)

    def perform_destroy(self, instance: Moc) -> None:
        moc_delete(moc=instance)


@extend_schema(
    summary="Search the caller's MOCs (M3, compatibility alias of M1 with `search`)",
    parameters=[
        OpenApiParameter("q", OpenApiTypes.STR, description="Search text, 0-200 characters; empty lists everything."),
        OpenApiParameter("from", OpenApiTypes.INT, description="Offset, >= 0 (default 0)."),
        OpenApiParameter("size", OpenApiTypes.INT, description="Page size, 1-100 (default 20)."),
        *SEARCH_HEADERS,
    ],
    responses={200: envelope(MocSerializer, paginated=True)},
)
class MocSearchView(APIView):
    """M3 `GET /api/mocs/search?q=&from=&size=`: M1's results sliced `[from, from+size)`."""

    def get(self, request: Request) -> Response:
        q = query_text(request, "q", max_length=SEARCH_MAX_LENGTH) or ""
        offset = query_int(request, "from", default=0, minimum=0)
        size = query_int(request, "size", default=20, minimum=1, maximum=100)

        def compute() -> CachedResult:
            # A blank `q` lists everything in M1's order (search_mocs answers that from the database).
            result = search_mocs(user_id=request.user.id, q=q, offset=offset, limit=size)
            meta = {
                "total": result.total,
                "page": offset // size + 1,
                "limit": size,
                "totalPages": math.ceil(result.total / size),
            }
            headers = {"X-Search-Backend": result.backend} if q else {}
            data = MocSerializer(result.rows, many=True, context={"request": request}).data
            return CachedResult(data=data, meta=meta, headers=headers)

        return cached_success(
            name=MOC_CACHE.search,
            user_id=request.user.id,
            families=(MOC_CACHE.family,),
            ttl=MOC_CACHE.search_ttl,
            params={"q": q, "from": offset, "size": size},
            compute=compute,
        )


# --- Statistics (M26-M28), cached as `mocs:stats:{uid}:{name}:{vM}` --------------------------------------------


class StatsView(APIView):
    """Base of the statistics views: `stats_name` names the cache entry, `compute()` the result."""

    stats_name: str

    def compute(self, user_id: str) -> CachedResult:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        return cached_success(
            name="mocs:stats",
            user_id=request.user.id,
            parts=(self.stats_name,),
            families=(MOC_CACHE.family,),
            ttl=STATS_TTL,
            compute=lambda: self.compute(request.user.id),
        )


def counted_rows(serializer_class: type[serializers.Serializer], rows: list[dict[str, Any]]) -> CachedResult:
    """A non-paginated collection of `{..., count}` rows, with `total` = the sum of the counts."""
    return CachedResult(data=serializer_class(rows, many=True).data, meta={"total": sum(row["count"] for row in rows)})


@extend_schema(
    summary="Parts-list statistics and the 10 most recently updated lists (M26)",
    parameters=CACHE_HEADERS,
    responses={200: envelope(PartsListsSummarySerializer, name="PartsListsSummaryEnvelope")},
)
class PartsListSummaryView(StatsView):
    """M26 `GET /api/mocs/parts-lists/summary`."""

    stats_name = "parts-lists-summary"

    def compute(self, user_id: str) -> CachedResult:
        return CachedResult(data=PartsListsSummarySerializer(stats_parts_lists_summary(user_id=user_id)).data)


@extend_schema(
    summary="The top 10 categories: themes, and tags that are not themes (M27)",
    parameters=CACHE_HEADERS,
    responses={200: envelope(CategoryCountSerializer, many=True, total=True, name="CategoryCountListEnvelope")},
)
class StatsByCategoryView(StatsView):
    """M27 `GET /api/mocs/stats/by-category`."""

    stats_name = "by-category"

    def compute(self, user_id: str) -> CachedResult:
        return counted_rows(CategoryCountSerializer, stats_by_category(user_id=user_id))


@extend_schema(
    summary="MOCs created per month and theme over the last 12 calendar months (M28)",
    parameters=CACHE_HEADERS,
    responses={
        200: envelope(MonthCategoryCountSerializer, many=True, total=True, name="MonthCategoryCountListEnvelope")
    },
)
class StatsUploadsOverTimeView(StatsView):
    """M28 `GET /api/mocs/stats/uploads-over-time`."""

    stats_name = "uploads-over-time"

    def compute(self, user_id: str) -> CachedResult:
        return counted_rows(MonthCategoryCountSerializer, stats_uploads_over_time(user_id=user_id))
