"""The MOC app's serializers: MOC input and output (`mocs`); file and parts-list input (`files`, `parts_lists`)."""

from mocs.serializers.mocs import (
    MOC_ONLY_FIELDS,
    SET_ONLY_FIELDS,
    MocDetailSerializer,
    MocFileSerializer,
    MocPartSerializer,
    MocPartsListSerializer,
    MocSerializer,
    MocWriteSerializer,
)

__all__ = [
    "MOC_ONLY_FIELDS",
    "SET_ONLY_FIELDS",
    "MocDetailSerializer",
    "MocFileSerializer",
    "MocPartSerializer",
    "MocPartsListSerializer",
    "MocSerializer",
    "MocWriteSerializer",
]
