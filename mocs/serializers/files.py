"""MOC file payloads and results (SPEC §4.2 M7-M13, §5.4): the input of the presigned flow, the multipart request
descriptions, and the output serializers the views answer with (which also describe the responses in the schema).

A serializer's docstring becomes its component's description in the OpenAPI document, so the classes whose
components have none are described in comments.
"""

from __future__ import annotations

from rest_framework import serializers

from lego_api.core.fields import BooleanField
from mocs.models import MocFileType, MocType
from mocs.serializers.mocs import MocFileSerializer, MocSerializer
from mocs.services.caps import MAX_FILES_PER_REQUEST, MAX_IMAGES_PER_CREATE, MAX_INSTRUCTION_FILES, MAX_PARTS_LISTS

# M8 and M10: a new MOC's files at the most (10 instructions, 10 parts lists and 3 images, 23 in all).
MAX_DECLARED_FILES = MAX_INSTRUCTION_FILES + MAX_PARTS_LISTS + MAX_IMAGES_PER_CREATE

# --- Input ------------------------------------------------------------------------------------------------------------


class FileDeclarationSerializer(serializers.Serializer):
    """One `files` entry of M8/M9; the kind rules (extension, type, size) are checked by the service (SPEC §5.2)."""

    filename = serializers.CharField(max_length=255)
    file_type = serializers.ChoiceField(choices=MocFileType.choices)
    mime_type = serializers.CharField(max_length=127)
    size = serializers.IntegerField()


# M8's `files` (MocWrite is read by MocWriteSerializer beside it).
class MocInitializeFilesSerializer(serializers.Serializer):
    files = serializers.ListField(child=FileDeclarationSerializer(), min_length=1, max_length=MAX_DECLARED_FILES)


# M9's body.
class FilesInitializeSerializer(serializers.Serializer):
    files = serializers.ListField(child=FileDeclarationSerializer(), min_length=1, max_length=MAX_FILES_PER_REQUEST)


class FinalizeEntrySerializer(serializers.Serializer):
    file_id = serializers.UUIDField()
    success = BooleanField()


# M10's body.
class FinalizeSerializer(serializers.Serializer):
    uploaded_files = serializers.ListField(child=FinalizeEntrySerializer(), min_length=1, max_length=MAX_DECLARED_FILES)


# --- Request descriptions (schema only) -------------------------------------------------------------------------------


# MocWrite as the M7 and M8 request schemas show it (SPEC §4.2); the rules themselves are MocWriteSerializer's,
# which M7 and M8 validate with.
class MocWriteFieldsSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=MocType.choices)
    title = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_null=True, max_length=5000)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20)
    thumbnail_url = serializers.URLField(required=False, allow_null=True, max_length=2048)
    author = serializers.CharField(required=False, allow_null=True, max_length=255)
    set_number = serializers.CharField(required=False, allow_null=True, max_length=50)
    parts_count = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1_000_000)
    theme = serializers.CharField(required=False, allow_null=True, max_length=255)
    subtheme = serializers.CharField(required=False, allow_null=True, max_length=255)
    uploaded_date = serializers.DateTimeField(required=False, allow_null=True)
    brand = serializers.CharField(required=False, allow_null=True, max_length=255)
    release_year = serializers.IntegerField(required=False, allow_null=True, min_value=1950)
    retired = serializers.BooleanField(required=False, allow_null=True)


# M7: MocWrite text fields and the three file fields.
class MocCreateWithFilesSerializer(MocWriteFieldsSerializer):
    instructions_file = serializers.ListField(child=serializers.FileField(), min_length=1)
    parts_lists = serializers.ListField(child=serializers.FileField(), required=False)
    images = serializers.ListField(child=serializers.FileField(), required=False, max_length=3)


# M8: MocWrite fields and the declared files.
class MocInitializeSerializer(MocWriteFieldsSerializer):
    files = FileDeclarationSerializer(many=True)


# M11: the files, and the type of each.
class MocFilesUploadSerializer(serializers.Serializer):
    file = serializers.FileField(required=False)
    files = serializers.ListField(child=serializers.FileField(), required=False, max_length=MAX_FILES_PER_REQUEST)
    file_type = serializers.ChoiceField(
        choices=MocFileType.choices,
        required=False,
        help_text="Type of every file without its own `fileType_{i}` field.",
    )


# --- Output -----------------------------------------------------------------------------------------------------------


class MocFileUploadUrlSerializer(serializers.Serializer):
    """Schema only: one presigned upload of M8/M9 (SPEC §5.4)."""

    # The docstring above is the component's description in the baseline document; the class also renders the
    # `uploadUrls` entries of M8/M9.
    file_id = serializers.UUIDField()
    filename = serializers.CharField()
    file_type = serializers.ChoiceField(choices=MocFileType.choices)
    upload_url = serializers.URLField()
    method = serializers.ChoiceField(choices=["PUT"])
    headers = serializers.DictField(child=serializers.CharField())
    expires_in = serializers.IntegerField()


# M9 `data`, from `mocs.services.presigned.InitializedUpload`.
class MocFilesInitializedSerializer(serializers.Serializer):
    moc_id = serializers.UUIDField(source="moc.pk")
    upload_urls = MocFileUploadUrlSerializer(many=True)
    expires_in = serializers.IntegerField()


# M8 `data`: M9's, with the MOC created.
class MocInitializedSerializer(MocFilesInitializedSerializer):
    moc = MocSerializer()


class MocFileUploadFailureSerializer(serializers.Serializer):
    filename = serializers.CharField()
    error = serializers.CharField()


# The counts of a multi-file M11, from `mocs.services.multipart.MultiUploadResult`.
class MocFilesUploadSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField(source="failed_count")


# M11 `data` with several files.
class MocFilesUploadedSerializer(serializers.Serializer):
    uploaded = MocFileSerializer(many=True)
    failed = MocFileUploadFailureSerializer(many=True)
    summary = MocFilesUploadSummarySerializer(source="*")


# M12 `data`.
class DeletedFileSerializer(serializers.Serializer):
    id = serializers.UUIDField()


# M13 `data` with `format=json`, from `mocs.services.files.DownloadLink`.
class MocFileDownloadSerializer(serializers.Serializer):
    download_url = serializers.URLField(source="url")
    filename = serializers.CharField(source="file.original_filename")
    mime_type = serializers.CharField(source="file.mime_type")
    file_size = serializers.IntegerField(source="file.file_size")
    expires_in = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
