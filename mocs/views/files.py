"""MOC file routes (SPEC §4.2 M7-M13): multipart uploads, the presigned initialize/finalize flow, file delete and
download. Views read the request and call one service in `mocs.services.files`; errors are raised, never built."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpResponseRedirect, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lego_api.core.casing import to_snake
from lego_api.core.envelope import success
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.fields import BooleanField, query_choice
from lego_api.core.parsers import MultiPartParser
from lego_api.core.schema import envelope
from mocs.models import MocFileType, MocType
from mocs.serializers import MocDetailSerializer, MocFileSerializer, MocSerializer, MocWriteSerializer
from mocs.services.files import (
    M7_IMAGES_FIELD,
    M7_INSTRUCTIONS_FIELD,
    M7_PARTS_LISTS_FIELD,
    MSG_NO_FILES,
    MSG_UNEXPECTED_FIELD,
    FileDeclaration,
    FileUpload,
    check_request_files,
    moc_create_with_files,
    moc_file_delete,
    moc_file_download_link,
    moc_file_get,
    moc_file_upload,
    moc_files_finalize,
    moc_files_initialize,
    moc_files_upload,
    moc_initialize_with_files,
)
from mocs.services.mocs import moc_detail_queryset, moc_get_owned

M11_FILE_FIELDS = ("file", "files")
M7_FILE_FIELDS = (M7_INSTRUCTIONS_FIELD, M7_PARTS_LISTS_FIELD, M7_IMAGES_FIELD)
DOWNLOAD_FORMATS = ("redirect", "json")


# --- Payloads ---------------------------------------------------------------------------------------------------------


class FileDeclarationSerializer(serializers.Serializer):
    """One `files` entry of M8/M9; the kind rules (extension, type, size) are checked by the service (SPEC §5.2)."""

    filename = serializers.CharField(max_length=255)
    file_type = serializers.ChoiceField(choices=MocFileType.choices)
    mime_type = serializers.CharField(max_length=127)
    size = serializers.IntegerField()


class MocInitializeFilesSerializer(serializers.Serializer):
    files = serializers.ListField(child=FileDeclarationSerializer(), min_length=1, max_length=23)


class FilesInitializeSerializer(serializers.Serializer):
    files = serializers.ListField(child=FileDeclarationSerializer(), min_length=1, max_length=10)


class FinalizeEntrySerializer(serializers.Serializer):
    file_id = serializers.UUIDField()
    success = BooleanField()


class FinalizeSerializer(serializers.Serializer):
    uploaded_files = serializers.ListField(child=FinalizeEntrySerializer(), min_length=1, max_length=23)


def _validate_together(*payloads: serializers.Serializer) -> None:
    """Run every serializer, so one 400 lists every problem of the body."""
    errors: dict[str, Any] = {}
    for payload in payloads:
        if not payload.is_valid():
            errors.update(payload.errors)
    if errors:
        raise DrfValidationError(errors)


def _moc_write_data(form: QueryDict) -> dict[str, Any]:
    """Multipart text fields as a MocWrite dict: snake_case keys, repeated `tags` kept as a list."""
    data: dict[str, Any] = {}
    for key in form:
        name = to_snake(key)
        data[name] = form.getlist(key) if name == "tags" else form.get(key)
    return data


class _PartOrder(FileUploadHandler):
    """Records the field name of every file part in order of appearance and passes the data on untouched:
    `request.FILES` groups files by field, which loses the order when `file` and `files` parts are mixed."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.fields: list[str] = []

    def new_file(self, field_name, *args, **kwargs) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.fields.append(field_name)

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size) -> None:
        return None  # the next handler builds the file


def record_part_order(request: Request) -> None:
    """Call before the body is parsed (a view's `initial`)."""
    request._request.upload_handlers.insert(0, _PartOrder())


def _file_parts(request: Request, allowed: tuple[str, ...]) -> list[tuple[str, Any]]:
    """Every file part as (field, file), in order of appearance; 400 `Unexpected file field` for a field the route
    does not list.

    Reading `request.FILES` parses the whole body, so all fields are read before anything is validated (§1.8).
    """
    files = request.FILES
    for name in files:
        if name not in allowed:
            raise ValidationFailed.route_message(MSG_UNEXPECTED_FIELD, name)
    by_field = {name: list(uploads) for name, uploads in files.lists()}
    order = next((h.fields for h in request._request.upload_handlers if isinstance(h, _PartOrder)), None)
    if order is None:
        return [(name, upload) for name, uploads in by_field.items() for upload in uploads]
    # Parts that produced no file (e.g. an empty filename) were recorded too; skip what a field has run out of.
    return [(name, by_field[name].pop(0)) for name in order if by_field.get(name)]


def _detail(moc_id: Any, request: Request) -> dict[str, Any]:
    moc = moc_detail_queryset().get(pk=moc_id)
    return MocDetailSerializer(moc, context={"request": request}).data


# --- OpenAPI descriptions -----------------------------------------------------------------------------------------------


def _envelope(name: str, data: serializers.Field, *, message: bool = True) -> serializers.Serializer:
    """The shared SPEC §1.1 envelope schema, under a name of this route (so shapes never collide)."""
    return envelope(data, message=message, name=name)


def _moc_write_schema_fields() -> dict[str, serializers.Field]:
    """MocWrite as the schema shows it (SPEC §4.2); the rules themselves live in `MocWriteSerializer`."""
    return {
        "type": serializers.ChoiceField(choices=MocType.choices),
        "title": serializers.CharField(max_length=255),
        "description": serializers.CharField(required=False, allow_null=True, max_length=5000),
        "tags": serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20),
        "thumbnail_url": serializers.URLField(required=False, allow_null=True, max_length=2048),
        "author": serializers.CharField(required=False, allow_null=True, max_length=255),
        "set_number": serializers.CharField(required=False, allow_null=True, max_length=50),
        "parts_count": serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1_000_000),
        "theme": serializers.CharField(required=False, allow_null=True, max_length=255),
        "subtheme": serializers.CharField(required=False, allow_null=True, max_length=255),
        "uploaded_date": serializers.DateTimeField(required=False, allow_null=True),
        "brand": serializers.CharField(required=False, allow_null=True, max_length=255),
        "release_year": serializers.IntegerField(required=False, allow_null=True, min_value=1950),
        "retired": serializers.BooleanField(required=False, allow_null=True),
    }


class MocFileUploadUrlSerializer(serializers.Serializer):
    """Schema only: one presigned upload of M8/M9 (SPEC §5.4)."""

    file_id = serializers.UUIDField()
    filename = serializers.CharField()
    file_type = serializers.ChoiceField(choices=MocFileType.choices)
    upload_url = serializers.URLField()
    method = serializers.ChoiceField(choices=["PUT"])
    headers = serializers.DictField(child=serializers.CharField())
    expires_in = serializers.IntegerField()


# --- M7 -----------------------------------------------------------------------------------------------------------------


class MocCreateWithFilesView(APIView):
    """M7 `POST /api/mocs/with-files`: create a MOC with its files in one multipart request, all or nothing."""

    parser_classes = [MultiPartParser]
    declared_errors = {"POST": (409,)}  # duplicate title (documented by lego_api.core.openapi)

    @extend_schema(
        operation_id="mocs_create_with_files",
        summary="Create a MOC with its files (M7)",
        description=(
            "Multipart: MocWrite text fields plus `instructionsFile` (1-10), `partsLists` (0-10) and `images` (0-3; "
            "the first becomes the thumbnail). At most 10 files and 50 MB in total. All or nothing: every file "
            "problem is a 400 with the file name as prefix."
        ),
        request={
            "multipart/form-data": inline_serializer(
                "MocCreateWithFiles",
                {
                    **_moc_write_schema_fields(),
                    "instructions_file": serializers.ListField(child=serializers.FileField(), min_length=1),
                    "parts_lists": serializers.ListField(child=serializers.FileField(), required=False),
                    "images": serializers.ListField(child=serializers.FileField(), required=False, max_length=3),
                },
            )
        },
        responses={201: _envelope("MocCreatedWithFilesEnvelope", MocDetailSerializer())},
    )
    def post(self, request: Request) -> Response:
        parts = _file_parts(request, M7_FILE_FIELDS)
        payload = MocWriteSerializer(data=_moc_write_data(request.POST), context={"instance": None})
        payload.is_valid(raise_exception=True)
        by_field: dict[str, list[Any]] = {name: [] for name in M7_FILE_FIELDS}
        for name, upload in parts:
            by_field[name].append(upload)
        moc = moc_create_with_files(
            user_id=request.user.id,
            data=payload.validated_data,
            instructions=by_field[M7_INSTRUCTIONS_FIELD],
            parts_lists=by_field[M7_PARTS_LISTS_FIELD],
            images=by_field[M7_IMAGES_FIELD],
        )
        return success(_detail(moc.pk, request), message="MOC created successfully with files", status=201)


# --- M8 / M9 / M10 -------------------------------------------------------------------------------------------------


class MocInitializeView(APIView):
    """M8 `POST /api/mocs/with-files/initialize`: create a MOC and declare its files for presigned uploads."""

    declared_errors = {"POST": (409,)}  # duplicate title

    @extend_schema(
        operation_id="mocs_initialize_with_files",
        summary="Create a MOC and get upload URLs for its files (M8)",
        request=inline_serializer(
            "MocInitialize",
            {**_moc_write_schema_fields(), "files": FileDeclarationSerializer(many=True)},
        ),
        responses={
            201: _envelope(
                "MocInitializedEnvelope",
                inline_serializer(
                    "MocInitialized",
                    {
                        "moc_id": serializers.UUIDField(),
                        "moc": MocSerializer(),
                        "expires_in": serializers.IntegerField(),
                        "upload_urls": MocFileUploadUrlSerializer(many=True),
                    },
                ),
            )
        },
    )
    def post(self, request: Request) -> Response:
        payload = MocWriteSerializer(data=request.data, context={"instance": None})
        files = MocInitializeFilesSerializer(data=request.data)
        _validate_together(payload, files)
        result = moc_initialize_with_files(
            user_id=request.user.id,
            data=payload.validated_data,
            declarations=[FileDeclaration(**entry) for entry in files.validated_data["files"]],
            request=request,
        )
        data = {
            "moc_id": result.moc.pk,
            "moc": MocSerializer(result.moc, context={"request": request}).data,
            "expires_in": result.expires_in,
            "upload_urls": result.upload_urls,
        }
        return success(data, message="MOC initialized; upload the files, then call finalize", status=201)


class FilesInitializeView(APIView):
    """M9 `POST /api/mocs/{id}/files/initialize`: declare files of an existing MOC for presigned uploads."""

    declared_errors = {"POST": (409,)}  # per-MOC caps

    @extend_schema(
        operation_id="mocs_files_initialize",
        summary="Get upload URLs for new files of a MOC (M9)",
        request=FilesInitializeSerializer,
        responses={
            201: _envelope(
                "MocFilesInitializedEnvelope",
                inline_serializer(
                    "MocFilesInitialized",
                    {
                        "moc_id": serializers.UUIDField(),
                        "upload_urls": MocFileUploadUrlSerializer(many=True),
                        "expires_in": serializers.IntegerField(),
                    },
                ),
                message=False,
            )
        },
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        payload = FilesInitializeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = moc_files_initialize(
            moc=moc,
            declarations=[FileDeclaration(**entry) for entry in payload.validated_data["files"]],
            request=request,
        )
        data = {"moc_id": moc.pk, "upload_urls": result.upload_urls, "expires_in": result.expires_in}
        return success(data, status=201)


class FinalizeView(APIView):
    """M10 `POST /api/mocs/{id}/finalize`: verify the uploaded files and publish them, all or nothing."""

    @extend_schema(
        operation_id="mocs_finalize",
        summary="Verify and publish presigned uploads (M10)",
        request=FinalizeSerializer,
        responses={200: _envelope("MocUploadFinalizedEnvelope", MocDetailSerializer())},
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        payload = FinalizeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        entries = [(entry["file_id"], entry["success"]) for entry in payload.validated_data["uploaded_files"]]
        moc = moc_files_finalize(moc=moc, entries=entries)
        return success(_detail(moc.pk, request), message="Upload finalized")


# --- M11 ----------------------------------------------------------------------------------------------------------------


class FileUploadView(APIView):
    """M11 `POST /api/mocs/{id}/files`: one file (errors map directly) or several (each succeeds on its own)."""

    parser_classes = [MultiPartParser]
    declared_errors = {"POST": (409,)}  # per-MOC caps, the thumbnail index

    def initial(self, request: Request, *args, **kwargs) -> None:
        record_part_order(request)  # `fileType_{i}` counts parts in order of appearance, across both fields
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="mocs_files_upload",
        summary="Upload files to a MOC (M11)",
        description=(
            "Multipart: 1-10 files under `file` or `files` (50 MB in total). File *i* (0-based, in order) takes its "
            "type from `fileType_{i}`, else from `fileType`. One file: 201 `data: MocFile`. Several: 201 with "
            "`uploaded`, `failed` and `summary` when at least one was stored, else 400 `No files were uploaded`."
        ),
        request={
            "multipart/form-data": inline_serializer(
                "MocFilesUpload",
                {
                    "file": serializers.FileField(required=False),
                    "files": serializers.ListField(child=serializers.FileField(), required=False, max_length=10),
                    "file_type": serializers.ChoiceField(
                        choices=MocFileType.choices,
                        required=False,
                        help_text="Type of every file without its own `fileType_{i}` field.",
                    ),
                },
            )
        },
        responses={
            201: PolymorphicProxySerializer(
                component_name="MocFilesUploadResult",
                serializers=[
                    _envelope("MocFileUploadedEnvelope", MocFileSerializer()),
                    _envelope(
                        "MocFilesUploadedEnvelope",
                        inline_serializer(
                            "MocFilesUploaded",
                            {
                                "uploaded": MocFileSerializer(many=True),
                                "failed": serializers.ListField(
                                    child=inline_serializer(
                                        "MocFileUploadFailure",
                                        {"filename": serializers.CharField(), "error": serializers.CharField()},
                                    )
                                ),
                                "summary": inline_serializer(
                                    "MocFilesUploadSummary",
                                    {
                                        "total": serializers.IntegerField(),
                                        "succeeded": serializers.IntegerField(),
                                        "failed": serializers.IntegerField(),
                                    },
                                ),
                            },
                        ),
                    ),
                ],
                resource_type_field_name=None,
            )
        },
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        uploads = [upload for _, upload in _file_parts(request, M11_FILE_FIELDS)]
        if not uploads:
            raise ValidationFailed.route_message(MSG_NO_FILES, "files")
        check_request_files(uploads)
        items = [self._item(request.POST, index, upload) for index, upload in enumerate(uploads)]
        if len(items) == 1:
            row = moc_file_upload(moc=moc, item=items[0])
            data = MocFileSerializer(row, context={"request": request}).data
            return success(data, message="File uploaded successfully", status=201)

        result = moc_files_upload(moc=moc, items=items)
        data = {
            "uploaded": MocFileSerializer(result.uploaded, many=True, context={"request": request}).data,
            "failed": [{"filename": failure.filename, "error": failure.error} for failure in result.failed],
            "summary": {"total": result.total, "succeeded": len(result.uploaded), "failed": len(result.failed)},
        }
        message = f"{len(result.uploaded)} of {result.total} files uploaded"
        return success(data, message=message, status=201)

    @staticmethod
    def _item(form: QueryDict, index: int, upload: Any) -> FileUpload:
        own = f"fileType_{index}"
        if (form.get(own) or "").strip():
            return FileUpload(upload=upload, file_type=form.get(own), type_field=own)
        return FileUpload(upload=upload, file_type=form.get("fileType"), type_field="fileType")


# --- M12 / M13 ----------------------------------------------------------------------------------------------------------


class FileDeleteView(APIView):
    """M12 `DELETE /api/mocs/{id}/files/{fileId}`."""

    @extend_schema(
        operation_id="mocs_files_delete",
        summary="Delete a file of a MOC (M12)",
        responses={
            200: _envelope("MocFileDeletedEnvelope", inline_serializer("DeletedFile", {"id": serializers.UUIDField()}))
        },
    )
    def delete(self, request: Request, id: str, file_id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        moc_file_delete(moc=moc, file_id=file_id)
        return success({"id": str(UUID(file_id))}, message="File deleted successfully")


class _FirstRendererNegotiation(DefaultContentNegotiation):
    """M13 owns the `format` query parameter (`redirect`/`json`), so it must not pick a renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FileDownloadView(APIView):
    """M13 `GET /api/mocs/{id}/files/{fileId}/download`: 302 to a presigned GET, or its details as JSON."""

    content_negotiation_class = _FirstRendererNegotiation

    @extend_schema(
        operation_id="mocs_files_download",
        summary="Download a file of a MOC (M13)",
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(DOWNLOAD_FORMATS),
                default="redirect",
                description="`redirect`: 302 to the download URL (empty body). `json`: the URL and its details.",
            )
        ],
        responses={
            200: _envelope(
                "MocFileDownloadEnvelope",
                inline_serializer(
                    "MocFileDownload",
                    {
                        "download_url": serializers.URLField(),
                        "filename": serializers.CharField(),
                        "mime_type": serializers.CharField(),
                        "file_size": serializers.IntegerField(),
                        "expires_in": serializers.IntegerField(allow_null=True),
                        "expires_at": serializers.DateTimeField(allow_null=True),
                    },
                ),
                message=False,
            ),
            302: OpenApiResponse(description="Redirect to the download URL (`Location`), with an empty body."),
        },
    )
    def get(self, request: Request, id: str, file_id: str) -> Any:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        format_ = query_choice(request, "format", DOWNLOAD_FORMATS, default="redirect")
        file = moc_file_get(moc=moc, file_id=file_id, include_pending=False)
        link = moc_file_download_link(file=file, request=request)
        if format_ == "redirect":
            response = HttpResponseRedirect(link.url)
            response["Cache-Control"] = "no-store"
            return response
        data = {
            "download_url": link.url,
            "filename": file.original_filename,
            "mime_type": file.mime_type,
            "file_size": file.file_size,
            "expires_in": link.expires_in,
            "expires_at": link.expires_at,
        }
        return success(data)
