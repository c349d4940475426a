"""MOC routes (SPEC §4.2): list and create (M1, M2), the search alias (M3), detail, update and delete (M4-M6),
and the statistics (M26-M28). GET results go through the response cache (SPEC §6.1)."""

from __future__ import annotations

import math
from uuid import UUID

from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lego_api.core.cache import CachedResult, cached_success
from lego_api.core.envelope import success
from lego_api.core.fields import query_int, query_params, query_text
from lego_api.core.pagination import page_meta
from lego_api.core.schema import envelope
from mocs.filters import MocFilter
from mocs.models import Moc
from mocs.search import search_mocs
from mocs.serializers import MocDetailSerializer, MocSerializer, MocWriteSerializer
from mocs.services.mocs import moc_create, moc_delete, moc_detail_queryset, moc_get_owned, moc_update
from mocs.services.stats import stats_by_category, stats_parts_lists_summary, stats_uploads_over_time

# TTLs of the SPEC §6.1 key table.
LIST_TTL = 300
SEARCH_TTL = 120
DETAIL_TTL = 600
STATS_TTL = 300
SEARCH_MAX_LENGTH = 200

CACHE_HEADERS = [
    OpenApiParameter("X-Cache", OpenApiTypes.STR, OpenApiParameter.HEADER, response=True, enum=["HIT", "MISS"])
]
SEARCH_HEADERS = [
    *CACHE_HEADERS,
    OpenApiParameter(
        "X-Search-Backend",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        enum=["opensearch", "postgres"],
        description="Which backend answered, when a search text was given.",
    ),
]
DELETED = envelope(
    inline_serializer("MocDeleted", {"id": serializers.UUIDField()}), message=True, name="MocDeletedEnvelope"
)


def path_moc_id(kwargs: dict) -> str:
    """The path id, canonical (lower-case) so that it names one cache entry whatever its case."""
    return str(UUID(kwargs["id"]))


class MocListCreateView(generics.ListCreateAPIView):
    """M1 `GET /api/mocs` and M2 `POST /api/mocs`."""

    serializer_class = MocSerializer
    filterset_class = MocFilter
    declared_errors = {"POST": (409,)}  # duplicate title (documented by lego_api.core.openapi)

    queryset = Moc.objects.none()  # for the schema generator; requests use get_queryset()

    def get_queryset(self):
        return Moc.objects.filter(user_id=self.request.user.id).defer("search_vector").order_by("-updated_at", "id")

    @extend_schema(
        summary="List the caller's MOCs (M1)", parameters=SEARCH_HEADERS, responses={200: MocSerializer(many=True)}
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Create a MOC or set (M2)",
        request=MocWriteSerializer,
        responses={201: envelope(MocSerializer, message=True)},
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return self.create(request, *args, **kwargs)

    def list(self, request: Request, *args, **kwargs) -> Response:
        filterset = self.filterset_class(query_params(request), queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        page, limit = self.paginator.get_page_params(request)
        cleaned = filterset.form.cleaned_data
        params = {
            "page": page,
            "limit": limit,
            "tag": (cleaned.get("tag") or "").lower() or None,
            "type": cleaned.get("type") or None,
            "search": cleaned.get("search") or None,
        }
        if params["search"]:
            return cached_success(
                name="mocs:search",
                user_id=request.user.id,
                families=("mocs",),
                ttl=SEARCH_TTL,
                params=params,
                compute=lambda: self._search(params),
            )

        def compute() -> CachedResult:
            rows = self.paginator.paginate_queryset(filterset.qs, request, view=self)
            return CachedResult(
                data=self.get_serializer(rows, many=True).data, meta=page_meta(self.paginator.total, page, limit)
            )

        return cached_success(
            name="mocs:list",
            user_id=self.request.user.id,
            families=("mocs",),
            ttl=LIST_TTL,
            params=params,
            compute=compute,
        )

    def _search(self, params: dict) -> CachedResult:
        page, limit = params["page"], params["limit"]
        result = search_mocs(
            user_id=self.request.user.id,
            q=params["search"],
            moc_type=params["type"],
            tag=params["tag"],
            offset=(page - 1) * limit,
            limit=limit,
        )
        return CachedResult(
            data=self.get_serializer(result.mocs, many=True).data,
            meta=page_meta(result.total, page, limit),
            headers={"X-Search-Backend": result.backend},
        )

    def create(self, request: Request, *args, **kwargs) -> Response:
        payload = MocWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        moc = moc_create(user_id=request.user.id, data=payload.validated_data)
        return success(self.get_serializer(moc).data, message="MOC created successfully", status=201)


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
            data = MocSerializer(result.mocs, many=True, context={"request": request}).data
            return CachedResult(data=data, meta=meta, headers=headers)

        return cached_success(
            name="mocs:search",
            user_id=request.user.id,
            families=("mocs",),
            ttl=SEARCH_TTL,
            params={"q": q, "from": offset, "size": size},
            compute=compute,
        )


class MocDetailView(generics.GenericAPIView):
    """M4 `GET`, M5 `PATCH|PUT` (both partial) and M6 `DELETE` `/api/mocs/{id}`."""

    serializer_class = MocDetailSerializer
    declared_errors = {"PATCH": (409,), "PUT": (409,)}  # duplicate title

    def get_queryset(self):
        # Not scoped by user: another user's MOC must answer 403, not 404 (SPEC §1.9); moc_get_owned decides.
        return moc_detail_queryset()

    def get_object(self) -> Moc:
        return moc_get_owned(
            user_id=self.request.user.id, moc_id=path_moc_id(self.kwargs), queryset=self.get_queryset()
        )

    @extend_schema(
        summary="A MOC with its files, images and parts lists (M4)",
        parameters=CACHE_HEADERS,
        responses={200: envelope(MocDetailSerializer)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return cached_success(
            name="mocs:detail",
            user_id=request.user.id,
            parts=(path_moc_id(kwargs),),
            # MocDetail lists linked gallery images, so a gallery write makes it stale too.
            families=("mocs", "gallery"),
            ttl=DETAIL_TTL,
            compute=lambda: CachedResult(data=self.get_serializer(self.get_object()).data),
        )

    @extend_schema(
        summary="Update a MOC (M5; PATCH and PUT are both partial)",
        request=MocWriteSerializer,
        responses={200: envelope(MocSerializer, message=True)},
    )
    def patch(self, request: Request, *args, **kwargs) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=path_moc_id(kwargs))
        payload = MocWriteSerializer(data=request.data, partial=True, context={"instance": moc})
        payload.is_valid(raise_exception=True)
        moc = moc_update(moc=moc, data=payload.validated_data)
        return success(
            MocSerializer(moc, context=self.get_serializer_context()).data, message="MOC updated successfully"
        )

    @extend_schema(
        summary="Update a MOC (M5; PUT is an alias of PATCH)",
        request=MocWriteSerializer,
        responses={200: envelope(MocSerializer, message=True)},
    )
    def put(self, request: Request, *args, **kwargs) -> Response:
        return self.patch(request, *args, **kwargs)

    @extend_schema(summary="Delete a MOC (M6)", responses={200: DELETED})
    def delete(self, request: Request, *args, **kwargs) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=path_moc_id(kwargs))
        moc_id = moc.id
        moc_delete(moc=moc)
        return success({"id": moc_id}, message="MOC deleted successfully")


# --- Statistics (M26-M28), cached as `mocs:stats:{uid}:{name}:{vM}` --------------------------------------------


def _stats_response(request: Request, name: str, compute) -> Response:
    return cached_success(
        name="mocs:stats", user_id=request.user.id, parts=(name,), families=("mocs",), ttl=STATS_TTL, compute=compute
    )


RECENT_PARTS_LISTS = inline_serializer(
    "RecentPartsList",
    many=True,
    fields={
        "id": serializers.UUIDField(),
        "moc_id": serializers.UUIDField(),
        "moc_title": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.CharField(),
        "built": serializers.BooleanField(),
        "purchased": serializers.BooleanField(),
        "inventory_percentage": serializers.FloatField(),
        "total_parts_count": serializers.IntegerField(),
        "updated_at": serializers.DateTimeField(),
    },
)
PARTS_LISTS_SUMMARY = inline_serializer(
    "PartsListsSummary",
    {
        "statistics": inline_serializer(
            "PartsListsStatistics",
            {
                "total_parts_lists": serializers.IntegerField(),
                "built_count": serializers.IntegerField(),
                "purchased_count": serializers.IntegerField(),
                "average_inventory_percentage": serializers.FloatField(),
            },
        ),
        "recent_parts_lists": RECENT_PARTS_LISTS,
    },
)
CATEGORY_COUNTS = inline_serializer(
    "CategoryCount", many=True, fields={"category": serializers.CharField(), "count": serializers.IntegerField()}
)
MONTH_COUNTS = inline_serializer(
    "MonthCategoryCount",
    many=True,
    fields={
        "date": serializers.CharField(help_text="YYYY-MM"),
        "category": serializers.CharField(),
        "count": serializers.IntegerField(),
    },
)


class PartsListSummaryView(APIView):
    """M26 `GET /api/mocs/parts-lists/summary`."""

    @extend_schema(
        summary="Parts-list statistics and the 10 most recently updated lists (M26)",
        parameters=CACHE_HEADERS,
        responses={200: envelope(PARTS_LISTS_SUMMARY, name="PartsListsSummaryEnvelope")},
    )
    def get(self, request: Request) -> Response:
        return _stats_response(
            request,
            "parts-lists-summary",
            lambda: CachedResult(data=stats_parts_lists_summary(user_id=request.user.id)),
        )


class StatsByCategoryView(APIView):
    """M27 `GET /api/mocs/stats/by-category`."""

    @extend_schema(
        summary="The top 10 categories: themes, and tags that are not themes (M27)",
        parameters=CACHE_HEADERS,
        responses={200: envelope(CATEGORY_COUNTS, total=True, name="CategoryCountListEnvelope")},
    )
    def get(self, request: Request) -> Response:
        def compute() -> CachedResult:
            rows = stats_by_category(user_id=request.user.id)
            return CachedResult(data=rows, meta={"total": sum(row["count"] for row in rows)})

        return _stats_response(request, "by-category", compute)


class StatsUploadsOverTimeView(APIView):
    """M28 `GET /api/mocs/stats/uploads-over-time`."""

    @extend_schema(
        summary="MOCs created per month and theme over the last 12 calendar months (M28)",
        parameters=CACHE_HEADERS,
        responses={200: envelope(MONTH_COUNTS, total=True, name="MonthCategoryCountListEnvelope")},
    )
    def get(self, request: Request) -> Response:
        def compute() -> CachedResult:
            rows = stats_uploads_over_time(user_id=request.user.id)
            return CachedResult(data=rows, meta={"total": sum(row["count"] for row in rows)})

        return _stats_response(request, "uploads-over-time", compute)
