"""The MOC app's serializers: MOC input and output (`mocs`, re-exported here); file and parts-list input (`files`,
`parts_lists`) and the statistics' output (`stats`), imported from their modules by the views that use them, so that
a cold start serving the MOC list does not import them (nor the parts-list parsers)."""

from mocs.serializers.mocs import (
    MOC_EDITABLE_COLUMNS,
    MOC_ONLY_FIELDS,
    SET_ONLY_FIELDS,
    MocDeletedSerializer,
    MocDetailSerializer,
    MocFileSerializer,
    MocPartSerializer,
    MocPartsListSerializer,
    MocSerializer,
    MocWriteSerializer,
)

__all__ = [
    "MOC_EDITABLE_COLUMNS",
    "MOC_ONLY_FIELDS",
    "SET_ONLY_FIELDS",
    "MocDeletedSerializer",
    "MocDetailSerializer",
    "MocFileSerializer",
    "MocPartSerializer",
    "MocPartsListSerializer",
    "MocSerializer",
    "MocWriteSerializer",
]
