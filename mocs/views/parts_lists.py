"""Parts-list routes (SPEC §4.2 M17-M25): upload and parse a file, manual lists, read, page parts, edit, delete.

The payload rules are in `mocs.serializers.parts_lists`; the work in `mocs.services.multipart` (the uploads) and
`mocs.services.parts_lists`.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lego_api.core.envelope import success
from lego_api.core.pagination import PagePagination
from lego_api.core.ratelimit import UPLOAD
from lego_api.core.schema import envelope
from lego_api.core.uploads import FilePartsParser, form_fields, one_file_part
from mocs.models import Moc
from mocs.serializers import MocPartSerializer, MocPartsListSerializer
from mocs.serializers.parts_lists import (
    PartsListCreateSerializer,
    PartsListDeletedSerializer,
    PartsListStatusSerializer,
    PartsListUploadAliasRequestSerializer,
    PartsListUploadAliasSerializer,
    PartsListUploadRequestSerializer,
    PartsListUploadResultSerializer,
    PartsListUploadSerializer,
    PartsListWriteSerializer,
)
from mocs.services.mocs import moc_get_owned
from mocs.services.multipart import parts_list_upload
from mocs.services.parts_lists import (
    parts_list_create_manual,
    parts_list_delete,
    parts_list_get,
    parts_list_update,
    parts_lists_of,
    parts_of,
)

UPLOAD_FIELDS = ("file", "partsListFile")

MOC_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="MOC id")
PARTS_LIST_ID = OpenApiParameter("pl_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Parts list id")
UPLOADED = envelope(PartsListUploadResultSerializer, message=True, name="PartsListUploadEnvelope")
CHANGED = envelope(MocPartsListSerializer, message=True, name="PartsListMessageEnvelope")
UPDATE_SCHEMA = {
    "parameters": [MOC_ID, PARTS_LIST_ID],
    "request": PartsListWriteSerializer(partial=True),
    "responses": {200: CHANGED},
}
STATUS_UPDATE_SCHEMA = {**UPDATE_SCHEMA, "request": PartsListStatusSerializer(partial=True)}


# --- M17 / M18: upload ------------------------------------------------------------------------------------------------


def _upload_response(request: Request, moc: Moc, *, title: str | None) -> Response:
    part = one_file_part(request, UPLOAD_FIELDS)
    stored = parts_list_upload(moc=moc, upload=part.file, field=part.field, title=title)
    data = PartsListUploadResultSerializer(stored, context={"request": request}).data
    return success(data, message="Parts list uploaded and processed successfully", status=201)


class UploadPartsListView(APIView):
    """M17 `POST /api/mocs/{id}/upload-parts-list`: upload one parts-list file and parse it synchronously."""

    parser_classes = [FilePartsParser]
    rate_limit_category = UPLOAD
    declared_errors = {"POST": (409,)}  # 10 parts lists (documented by lego_api.core.openapi)

    @extend_schema(
        summary="Upload and parse a parts list (M17)",
        operation_id="mocs_upload_parts_list",
        parameters=[MOC_ID],
        request={"multipart/form-data": PartsListUploadRequestSerializer},
        responses={201: UPLOADED},
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        serializer = PartsListUploadSerializer(data=form_fields(request))
        serializer.is_valid(raise_exception=True)
        return _upload_response(request, moc, title=serializer.validated_data.get("title"))


class UploadPartsListAliasView(APIView):
    """M18 `POST /api/mocs/upload-parts-list`: M17 with the MOC named by the `mocId` field."""

    parser_classes = [FilePartsParser]
    rate_limit_category = UPLOAD
    declared_errors = {"POST": (403, 404, 409)}  # `mocId` follows the path rule; 10 parts lists

    @extend_schema(
        summary="Upload and parse a parts list, MOC in the body (M18)",
        operation_id="mocs_upload_parts_list_alias",
        request={"multipart/form-data": PartsListUploadAliasRequestSerializer},
        responses={201: UPLOADED},
    )
    def post(self, request: Request) -> Response:
        serializer = PartsListUploadAliasSerializer(data=form_fields(request))
        serializer.is_valid(raise_exception=True)
        moc = moc_get_owned(user_id=request.user.id, moc_id=serializer.validated_data["moc_id"])
        return _upload_response(request, moc, title=serializer.validated_data.get("title"))


# --- M19-M25 ----------------------------------------------------------------------------------------------------------


class PartsListCollectionView(APIView):
    """M19 `GET` (the MOC's lists) and M20 `POST` (a manual list) on `/api/mocs/{id}/parts-lists`."""

    declared_errors = {"POST": (409,)}  # 10 parts lists

    @extend_schema(
        summary="List a MOC's parts lists (M19)",
        operation_id="mocs_parts_lists_list",
        parameters=[MOC_ID],
        responses={200: envelope(MocPartsListSerializer, many=True, total=True, name="PartsListListEnvelope")},
    )
    def get(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        lists = parts_lists_of(moc=moc)
        return success(MocPartsListSerializer(lists, many=True).data, total=len(lists))

    @extend_schema(
        summary="Create a manual parts list (M20)",
        operation_id="mocs_parts_lists_create",
        parameters=[MOC_ID],
        request=PartsListCreateSerializer,
        responses={201: CHANGED},
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        serializer = PartsListCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        parts = data.pop("parts", None) or []
        parts_list = parts_list_create_manual(moc=moc, data=data, parts=parts)
        return success(MocPartsListSerializer(parts_list).data, message="Parts list created successfully", status=201)


def update_parts_list(request: Request, moc_id: str, pl_id: str, serializer_class: type, message: str) -> Response:
    """M23 and M24: the same partial update, each with its own field set and message."""
    moc = moc_get_owned(user_id=request.user.id, moc_id=moc_id)
    parts_list = parts_list_get(moc=moc, parts_list_id=pl_id)
    serializer = serializer_class(data=request.data, partial=True)
    serializer.is_valid(raise_exception=True)
    parts_list = parts_list_update(parts_list=parts_list, data=serializer.validated_data)
    return success(MocPartsListSerializer(parts_list).data, message=message)


class PartsListDetailView(APIView):
    """M21 `GET`, M23 `PATCH`/`PUT` and M25 `DELETE` on `/api/mocs/{id}/parts-lists/{plId}`."""

    @extend_schema(
        summary="Get a parts list (M21)",
        operation_id="mocs_parts_lists_retrieve",
        parameters=[MOC_ID, PARTS_LIST_ID],
        responses={200: envelope(MocPartsListSerializer, name="PartsListEnvelope")},
    )
    def get(self, request: Request, id: str, pl_id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        return success(MocPartsListSerializer(parts_list_get(moc=moc, parts_list_id=pl_id)).data)

    @extend_schema(summary="Update a parts list (M23)", operation_id="mocs_parts_lists_update", **UPDATE_SCHEMA)
    def patch(self, request: Request, id: str, pl_id: str) -> Response:
        return update_parts_list(request, id, pl_id, PartsListWriteSerializer, "Parts list updated successfully")

    @extend_schema(
        summary="Update a parts list (M23, PUT = PATCH)", operation_id="mocs_parts_lists_replace", **UPDATE_SCHEMA
    )
    def put(self, request: Request, id: str, pl_id: str) -> Response:
        return self.patch(request, id, pl_id)

    @extend_schema(
        summary="Delete a parts list and its source file (M25)",
        operation_id="mocs_parts_lists_destroy",
        parameters=[MOC_ID, PARTS_LIST_ID],
        responses={200: envelope(PartsListDeletedSerializer, message=True, name="PartsListDeletedEnvelope")},
    )
    def delete(self, request: Request, id: str, pl_id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        parts_list = parts_list_get(moc=moc, parts_list_id=pl_id)
        parts_list_delete(moc=moc, parts_list=parts_list)
        data = PartsListDeletedSerializer({"id": parts_list.pk}).data
        return success(data, message="Parts list deleted successfully")


class PartsPagination(PagePagination):
    """M22: up to 1000 parts a page, 100 by default (SPEC §1.7 exception)."""

    default_limit = 100
    max_limit = 1000


class PartsView(APIView):
    """M22 `GET /api/mocs/{id}/parts-lists/{plId}/parts`: the list's parts by line number, paginated."""

    @extend_schema(
        summary="Page through a parts list's parts (M22)",
        operation_id="mocs_parts_lists_parts_list",
        parameters=[
            MOC_ID,
            PARTS_LIST_ID,
            OpenApiParameter("page", OpenApiTypes.INT, description="Page number (≥ 1, default 1)"),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Page size (1 to 1000, default 100)"),
        ],
        responses={200: envelope(MocPartSerializer, paginated=True, name="PartPageEnvelope")},
    )
    def get(self, request: Request, id: str, pl_id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        parts_list = parts_list_get(moc=moc, parts_list_id=pl_id)
        paginator = PartsPagination()
        page = paginator.paginate_queryset(parts_of(parts_list=parts_list), request, view=self)
        return paginator.get_paginated_response(MocPartSerializer(page, many=True).data)


class PartsListStatusView(APIView):
    """M24 `PATCH`/`PUT /api/mocs/{id}/parts-lists/{plId}/status`: the build and purchase progress fields."""

    @extend_schema(
        summary="Update a parts list's build status (M24)",
        operation_id="mocs_parts_lists_status_update",
        **STATUS_UPDATE_SCHEMA,
    )
    def patch(self, request: Request, id: str, pl_id: str) -> Response:
        return update_parts_list(
            request, id, pl_id, PartsListStatusSerializer, "Parts list status updated successfully"
        )

    @extend_schema(
        summary="Update a parts list's build status (M24, PUT = PATCH)",
        operation_id="mocs_parts_lists_status_replace",
        **STATUS_UPDATE_SCHEMA,
    )
    def put(self, request: Request, id: str, pl_id: str) -> Response:
        return self.patch(request, id, pl_id)
