"""Parts-list routes (SPEC §4.2 M17-M25): upload and parse a file, manual lists, read, page parts, edit, delete.

The request payload rules live here too (the `*Serializer` input classes); the work is in
`mocs.services.parts_lists`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lego_api.core.envelope import success
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.fields import BooleanField, text_error
from lego_api.core.files import no_file_error
from lego_api.core.pagination import PagePagination
from lego_api.core.parsers import MultiPartParser
from lego_api.core.schema import envelope
from mocs.models import Moc
from mocs.parsers import ParsedPart, ParseError
from mocs.parsers.types import ERROR_LIMIT, check_record
from mocs.serializers import MocFileSerializer, MocPartSerializer, MocPartsListSerializer
from mocs.services.mocs import moc_get_owned
from mocs.services.parts_lists import (
    parts_list_create_manual,
    parts_list_delete,
    parts_list_get,
    parts_list_update,
    parts_list_upload,
    parts_lists_of,
    parts_of,
)

MAX_MANUAL_PARTS = 10_000
UPLOAD_FIELDS = ("file", "partsListFile")
MSG_UNEXPECTED_FILE_FIELD = "Unexpected file field"
MSG_ONE_FILE_ONLY = "Only one file can be uploaded"
MSG_STATUS_FIELD_REQUIRED = (
    "At least one of built, purchased, inventoryPercentage, acquiredPartsCount, actualCost or notes is required."
)
MONEY_MAX = Decimal("99999999.99")


# --- Request payloads ------------------------------------------------------------------------------------------


class _OptionalTextField(serializers.CharField):
    """Trimmed text; empty after trimming becomes null (SPEC §1.4)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(allow_null=True, allow_blank=True, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> str | None:
        return super().run_validation(data) or None


class _WholeNumberField(serializers.IntegerField):
    """A JSON integer (or a string of digits); no booleans, fractions or exponents."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        if isinstance(data, str) and data.strip().isascii() and data.strip().isdigit() and len(data.strip()) <= 12:
            return int(data.strip())
        self.fail("invalid")


def _percentage_field() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        coerce_to_string=False,
    )


def _money_field() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=MONEY_MAX,
        allow_null=True,
        required=False,
        coerce_to_string=False,
    )


def _text_cell(value: Any) -> str | None:
    """A text value of a part as the record rules take it; None when it is not text at all."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):  # e.g. `"partId": 3001`
        return str(value)
    return None


def _raw_cell(value: Any) -> str:
    """A quantity or isSpare value as the record rules take it: JSON text for non-strings (`3.5`, `true`)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


class ManualPartSerializer(serializers.Serializer):
    """One M20 part, for the schema (ManualPartsField checks the values, with the SPEC §5.6 record rules)."""

    part_id = serializers.CharField(max_length=64)
    part_name = serializers.CharField(max_length=255, required=False, allow_null=True)
    color = serializers.CharField(max_length=64, required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    category = serializers.CharField(max_length=100, required=False, allow_null=True)
    is_spare = serializers.BooleanField(required=False)


@extend_schema_field(ManualPartSerializer(many=True))
class ManualPartsField(serializers.Field):
    """M20 `parts`: up to 10,000 `{partId, partName?, color?, quantity, category?, isSpare?}` objects, checked by
    the SPEC §5.6 record rules. Errors are reported per path (`parts.3.quantity`) for at most 50 parts."""

    default_error_messages = {
        "not_a_list": 'Expected a list of items but got type "{input_type}".',
        "too_many": f"At most {MAX_MANUAL_PARTS} parts are allowed.",
        "not_an_object": "Expected an object.",
        "not_text": "Must be a string.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> list[ParsedPart]:
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if len(data) > MAX_MANUAL_PARTS:
            self.fail("too_many")
        parts: list[ParsedPart] = []
        errors: dict[str, Any] = {}
        for index, item in enumerate(data):
            if len(errors) >= ERROR_LIMIT:
                break
            if not isinstance(item, dict):
                errors[str(index)] = [self.error_messages["not_an_object"]]
                continue
            item_errors: dict[str, list[str]] = {}
            cells: dict[str, str] = {}
            # Keys arrive snake_cased by the JSON parser; errors use the API's names (check_record's columns).
            for column, key in (
                ("partId", "part_id"),
                ("partName", "part_name"),
                ("color", "color"),
                ("category", "category"),
            ):
                cell = _text_cell(item.get(key))
                if cell is None:
                    item_errors[column] = [self.error_messages["not_text"]]
                cells[column] = cell or ""
            cells["quantity"] = _raw_cell(item.get("quantity"))
            cells["isSpare"] = _raw_cell(item.get("is_spare"))
            for column, cell in cells.items():
                message = text_error(cell)
                if message is not None:
                    item_errors.setdefault(column, []).append(message)
                    cells[column] = ""
            record_errors: list[ParseError] = []
            part = check_record(
                index + 1,
                cells["partId"],
                cells["quantity"],
                cells["color"],
                cells["partName"],
                cells["category"],
                cells["isSpare"],
                errors=record_errors,
            )
            for error in record_errors:
                if error.column not in item_errors:  # a type error already explains the column
                    item_errors[error.column or "nonFieldErrors"] = [error.message]
            if item_errors:
                errors[str(index)] = item_errors
            elif part is not None:
                parts.append(part)
        if errors:
            raise serializers.ValidationError(errors)
        return parts

    def to_representation(self, value: Any) -> Any:
        return value


class PartsListWriteSerializer(serializers.Serializer):
    """M23 fields (partial), also the editable fields of M20."""

    title = serializers.CharField(max_length=255)
    description = _OptionalTextField(max_length=2000)
    built = BooleanField(required=False)
    purchased = BooleanField(required=False)
    inventory_percentage = _percentage_field()
    acquired_parts_count = _WholeNumberField(min_value=0, max_value=1_000_000, required=False)
    cost_estimate = _money_field()
    actual_cost = _money_field()
    notes = _OptionalTextField(max_length=5000)


class PartsListCreateSerializer(PartsListWriteSerializer):
    """M20: `title` is required; `parts` is optional."""

    parts = ManualPartsField()


class PartsListStatusSerializer(serializers.Serializer):
    """M24: a subset of M23's fields, at least one of them."""

    built = BooleanField(required=False)
    purchased = BooleanField(required=False)
    inventory_percentage = _percentage_field()
    acquired_parts_count = _WholeNumberField(min_value=0, max_value=1_000_000, required=False)
    actual_cost = _money_field()
    notes = _OptionalTextField(max_length=5000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(MSG_STATUS_FIELD_REQUIRED)
        return attrs


class PartsListUploadSerializer(serializers.Serializer):
    """M17 text fields."""

    title = _OptionalTextField(max_length=255)


class PartsListUploadAliasSerializer(PartsListUploadSerializer):
    """M18 text fields: `mocId` names the target MOC; `fileType` is ignored."""

    moc_id = serializers.UUIDField()


# --- Schema pieces ---------------------------------------------------------------------------------------------

MOC_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="MOC id")
PARTS_LIST_ID = OpenApiParameter("pl_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Parts list id")
_UPLOAD_FILE_FIELDS = {
    "file": serializers.FileField(required=False, help_text="The parts list (.csv, .txt, .xml; max 10 MB)"),
    "parts_list_file": serializers.FileField(required=False, help_text="Alternative name of `file`"),
    "title": serializers.CharField(required=False, max_length=255),
}
UPLOAD_REQUEST = inline_serializer("PartsListUploadRequest", _UPLOAD_FILE_FIELDS)
UPLOAD_ALIAS_REQUEST = inline_serializer(
    "PartsListUploadAliasRequest",
    {
        "moc_id": serializers.UUIDField(),
        "file_type": serializers.CharField(required=False, help_text="Ignored"),
        **_UPLOAD_FILE_FIELDS,
    },
)
UPLOAD_RESULT = inline_serializer(
    "PartsListUploadResult",
    {
        "parts_list_id": serializers.UUIDField(),
        "total_parts": serializers.IntegerField(),
        "file": MocFileSerializer(),
        "parts_list": MocPartsListSerializer(),
        "parsing": inline_serializer(
            "PartsListParsing",
            {
                "total_piece_count": serializers.IntegerField(),
                "unique_parts": serializers.IntegerField(),
                "rows_processed": serializers.IntegerField(),
                "format": serializers.CharField(),
                "success": serializers.BooleanField(),
            },
        ),
        "moc": inline_serializer(
            "PartsListUploadMoc",
            {"id": serializers.UUIDField(), "total_piece_count": serializers.IntegerField(allow_null=True)},
        ),
    },
)
M23_SCHEMA = {
    "parameters": [MOC_ID, PARTS_LIST_ID],
    "request": PartsListWriteSerializer(partial=True),
    "responses": {200: envelope(MocPartsListSerializer, message=True, name="PartsListMessageEnvelope")},
}
M24_SCHEMA = {**M23_SCHEMA, "request": PartsListStatusSerializer(partial=True)}
DELETED = inline_serializer("PartsListDeleted", {"id": serializers.UUIDField()})


# --- Views -----------------------------------------------------------------------------------------------------


def _the_upload(request: Request) -> tuple[str, Any]:
    """The one parts-list file part: (its field name, the file). 400 for other file fields, none, or several."""
    found = []
    for name in request.FILES:
        if name not in UPLOAD_FIELDS:
            raise ValidationFailed.route_message(MSG_UNEXPECTED_FILE_FIELD, name)
        found += [(name, upload) for upload in request.FILES.getlist(name)]
    if not found:
        raise no_file_error("file")
    if len(found) > 1:
        raise ValidationFailed.route_message(MSG_ONE_FILE_ONLY, found[0][0])
    return found[0]


def _text_fields(request: Request, names: dict[str, str]) -> dict[str, Any]:
    """Multipart text values by serializer field name (`{"moc_id": "mocId"}`), only those sent."""
    return {field: request.data.get(sent) for field, sent in names.items() if sent in request.data}


def _upload_response(request: Request, moc: Moc, *, title: str | None) -> Response:
    field, upload = _the_upload(request)
    stored = parts_list_upload(moc=moc, uploaded_file=upload, field=field, title=title)
    parts_list = stored.parts_list
    data = {
        "parts_list_id": parts_list.pk,
        "total_parts": parts_list.total_parts_count,
        "file": MocFileSerializer(stored.file, context={"request": request}).data,
        "parts_list": MocPartsListSerializer(parts_list).data,
        "parsing": {
            "total_piece_count": parts_list.total_parts_count,
            "unique_parts": parts_list.unique_parts_count,
            "rows_processed": parts_list.row_count,
            "format": parts_list.format,
            "success": True,
        },
        "moc": {"id": stored.moc.pk, "total_piece_count": stored.moc.total_piece_count},
    }
    return success(data, message="Parts list uploaded and processed successfully", status=201)


class UploadPartsListView(APIView):
    """M17 `POST /api/mocs/{id}/upload-parts-list`: upload one parts-list file and parse it synchronously."""

    parser_classes = [MultiPartParser]
    declared_errors = {"POST": (409,)}  # 10 parts lists (documented by lego_api.core.openapi)

    @extend_schema(
        summary="Upload and parse a parts list (M17)",
        operation_id="mocs_upload_parts_list",
        parameters=[MOC_ID],
        request={"multipart/form-data": UPLOAD_REQUEST},
        responses={201: envelope(UPLOAD_RESULT, message=True, name="PartsListUploadEnvelope")},
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        serializer = PartsListUploadSerializer(data=_text_fields(request, {"title": "title"}))
        serializer.is_valid(raise_exception=True)
        return _upload_response(request, moc, title=serializer.validated_data.get("title"))


class UploadPartsListAliasView(APIView):
    """M18 `POST /api/mocs/upload-parts-list`: M17 with the MOC named by the `mocId` field."""

    parser_classes = [MultiPartParser]
    declared_errors = {"POST": (403, 404, 409)}  # `mocId` follows the path rule; 10 parts lists

    @extend_schema(
        summary="Upload and parse a parts list, MOC in the body (M18)",
        operation_id="mocs_upload_parts_list_alias",
        request={"multipart/form-data": UPLOAD_ALIAS_REQUEST},
        responses={201: envelope(UPLOAD_RESULT, message=True, name="PartsListUploadEnvelope")},
    )
    def post(self, request: Request) -> Response:
        serializer = PartsListUploadAliasSerializer(data=_text_fields(request, {"moc_id": "mocId", "title": "title"}))
        serializer.is_valid(raise_exception=True)
        moc = moc_get_owned(user_id=request.user.id, moc_id=serializer.validated_data["moc_id"])
        return _upload_response(request, moc, title=serializer.validated_data.get("title"))


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
        responses={201: envelope(MocPartsListSerializer, message=True, name="PartsListMessageEnvelope")},
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

    @extend_schema(summary="Update a parts list (M23)", operation_id="mocs_parts_lists_update", **M23_SCHEMA)
    def patch(self, request: Request, id: str, pl_id: str) -> Response:
        return update_parts_list(request, id, pl_id, PartsListWriteSerializer, "Parts list updated successfully")

    @extend_schema(
        summary="Update a parts list (M23, PUT = PATCH)", operation_id="mocs_parts_lists_replace", **M23_SCHEMA
    )
    def put(self, request: Request, id: str, pl_id: str) -> Response:
        return self.patch(request, id, pl_id)

    @extend_schema(
        summary="Delete a parts list and its source file (M25)",
        operation_id="mocs_parts_lists_destroy",
        parameters=[MOC_ID, PARTS_LIST_ID],
        responses={200: envelope(DELETED, message=True, name="PartsListDeletedEnvelope")},
    )
    def delete(self, request: Request, id: str, pl_id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        parts_list = parts_list_get(moc=moc, parts_list_id=pl_id)
        parts_list_delete(moc=moc, parts_list=parts_list)
        return success({"id": parts_list.pk}, message="Parts list deleted successfully")


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
        summary="Update a parts list's build status (M24)", operation_id="mocs_parts_lists_status_update", **M24_SCHEMA
    )
    def patch(self, request: Request, id: str, pl_id: str) -> Response:
        return update_parts_list(
            request, id, pl_id, PartsListStatusSerializer, "Parts list status updated successfully"
        )

    @extend_schema(
        summary="Update a parts list's build status (M24, PUT = PATCH)",
        operation_id="mocs_parts_lists_status_replace",
        **M24_SCHEMA,
    )
    def put(self, request: Request, id: str, pl_id: str) -> Response:
        return self.patch(request, id, pl_id)
