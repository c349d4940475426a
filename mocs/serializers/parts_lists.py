"""Parts-list payloads and results (SPEC §4.2 M17-M25, §5.6): the input rules of manual lists, edits and the upload's
text fields, the upload request descriptions, and the upload's output serializer.

A serializer's docstring becomes its component's description in the OpenAPI document, so the classes whose
components have none are described in comments.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lego_api.core.fields import BooleanField, OptionalTextField, WholeNumberField, text_error
from mocs.parsers import ParsedPart, ParseError
from mocs.parsers.types import ERROR_LIMIT, check_record
from mocs.serializers.files import DeletedFileSerializer
from mocs.serializers.mocs import MocFileSerializer, MocPartsListSerializer

MAX_MANUAL_PARTS = 10_000
MSG_STATUS_FIELD_REQUIRED = (
    "At least one of built, purchased, inventoryPercentage, acquiredPartsCount, actualCost or notes is required."
)
MONEY_MAX = Decimal("99999999.99")


# --- Input ------------------------------------------------------------------------------------------------------------


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
    description = OptionalTextField(max_length=2000)
    built = BooleanField(required=False)
    purchased = BooleanField(required=False)
    inventory_percentage = _percentage_field()
    acquired_parts_count = WholeNumberField(min_value=0, max_value=1_000_000, required=False)
    cost_estimate = _money_field()
    actual_cost = _money_field()
    notes = OptionalTextField(max_length=5000)


class PartsListCreateSerializer(PartsListWriteSerializer):
    """M20: `title` is required; `parts` is optional."""

    parts = ManualPartsField()


class PartsListStatusSerializer(serializers.Serializer):
    """M24: a subset of M23's fields, at least one of them."""

    built = BooleanField(required=False)
    purchased = BooleanField(required=False)
    inventory_percentage = _percentage_field()
    acquired_parts_count = WholeNumberField(min_value=0, max_value=1_000_000, required=False)
    actual_cost = _money_field()
    notes = OptionalTextField(max_length=5000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(MSG_STATUS_FIELD_REQUIRED)
        return attrs


class PartsListUploadSerializer(serializers.Serializer):
    """M17 text fields."""

    title = OptionalTextField(max_length=255)


class PartsListUploadAliasSerializer(PartsListUploadSerializer):
    """M18 text fields: `mocId` names the target MOC; `fileType` is ignored."""

    moc_id = serializers.UUIDField()


# --- Request descriptions (schema only) -------------------------------------------------------------------------------


# M17: the file, under `file` or `partsListFile`, and an optional title (PartsListUploadSerializer reads the title).
class PartsListUploadRequestSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="The parts list (.csv, .txt, .xml; max 10 MB)")
    parts_list_file = serializers.FileField(required=False, help_text="Alternative name of `file`")
    title = serializers.CharField(required=False, max_length=255)


# M18: the MOC's id, and M17's fields. The baseline document of issue 9 lists only `mocId` and `fileType` here
# (its field objects were shared with M17's and bound there), and the document must stay equal to it: deriving this
# class from PartsListUploadRequestSerializer would list the file fields too.
class PartsListUploadAliasRequestSerializer(serializers.Serializer):
    moc_id = serializers.UUIDField()
    file_type = serializers.CharField(required=False, help_text="Ignored")


# --- Output -----------------------------------------------------------------------------------------------------------


# The parse's figures in M17/M18 `data`, from `mocs.services.multipart.PartsListUpload`.
class PartsListParsingSerializer(serializers.Serializer):
    total_piece_count = serializers.IntegerField(source="parts_list.total_parts_count")
    unique_parts = serializers.IntegerField(source="parts_list.unique_parts_count")
    rows_processed = serializers.IntegerField(source="parts_list.row_count")
    format = serializers.CharField(source="parts_list.format")
    success = serializers.BooleanField(source="result.ok")


# The MOC's new total in M17/M18 `data`.
class PartsListUploadMocSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    total_piece_count = serializers.IntegerField(allow_null=True)


# M17/M18 `data`, from `mocs.services.multipart.PartsListUpload`.
class PartsListUploadResultSerializer(serializers.Serializer):
    parts_list_id = serializers.UUIDField(source="parts_list.pk")
    total_parts = serializers.IntegerField(source="parts_list.total_parts_count")
    file = MocFileSerializer()
    parts_list = MocPartsListSerializer()
    parsing = PartsListParsingSerializer(source="*")
    moc = PartsListUploadMocSerializer()


# M25 `data`.
class PartsListDeletedSerializer(DeletedFileSerializer):
    pass
