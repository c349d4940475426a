"""The MOC app's serializers: MOC input and output (`mocs`); file and parts-list input (`files`, `parts_lists`)."""

from mocs.serializers.files import (
    FileDeclarationSerializer,
    FilesInitializeSerializer,
    FinalizeSerializer,
    MocInitializeFilesSerializer,
)
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
from mocs.serializers.parts_lists import (
    ManualPartsField,
    PartsListCreateSerializer,
    PartsListStatusSerializer,
    PartsListUploadAliasSerializer,
    PartsListUploadSerializer,
    PartsListWriteSerializer,
)

__all__ = [
    "MOC_EDITABLE_COLUMNS",
    "MOC_ONLY_FIELDS",
    "SET_ONLY_FIELDS",
    "FileDeclarationSerializer",
    "FilesInitializeSerializer",
    "FinalizeSerializer",
    "ManualPartsField",
    "MocDeletedSerializer",
    "MocDetailSerializer",
    "MocFileSerializer",
    "MocInitializeFilesSerializer",
    "MocPartSerializer",
    "MocPartsListSerializer",
    "MocSerializer",
    "MocWriteSerializer",
    "PartsListCreateSerializer",
    "PartsListStatusSerializer",
    "PartsListUploadAliasSerializer",
    "PartsListUploadSerializer",
    "PartsListWriteSerializer",
]
