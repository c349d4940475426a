"""MOC file routes (SPEC §4.2 M7-M13): multipart uploads, the presigned initialize/finalize flow, file delete and
download. Views read the request (`lego_api.core.uploads` for multipart bodies), call one service and answer with an
output serializer; errors are raised, never built."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from lego_api.core.envelope import success
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.query import query_choice
from lego_api.core.ratelimit import UPLOAD
from lego_api.core.schema import envelope
from lego_api.core.uploads import FilePartsParser, file_parts, form_fields
from mocs.models import Moc
from mocs.serializers import MocDetailSerializer, MocFileSerializer, MocWriteSerializer
from mocs.serializers.files import (
    DeletedFileSerializer,
    FilesInitializeSerializer,
    FinalizeSerializer,
    MocCreateWithFilesSerializer,
    MocFileDownloadSerializer,
    MocFilesInitializedSerializer,
    MocFilesUploadedSerializer,
    MocFilesUploadSerializer,
    MocInitializedSerializer,
    MocInitializeFilesSerializer,
    MocInitializeSerializer,
)
from mocs.services.files import moc_file_delete, moc_file_download_link, moc_file_get
from mocs.services.mocs import moc_detail_queryset, moc_get_owned
from mocs.services.multipart import (
    IMAGES_FIELD,
    INSTRUCTIONS_FIELD,
    MSG_NO_FILES,
    PARTS_LISTS_FIELD,
    FileUpload,
    check_request_files,
    moc_create_with_files,
    moc_file_upload,
    moc_files_upload,
)
from mocs.services.presigned import (
    FileDeclaration,
    moc_files_finalize,
    moc_files_initialize,
    moc_initialize_with_files,
)

CREATE_FILE_FIELDS = (INSTRUCTIONS_FIELD, PARTS_LISTS_FIELD, IMAGES_FIELD)
UPLOAD_FILE_FIELDS = ("file", "files")
DOWNLOAD_FORMATS = ("redirect", "json")


def _validate_together(*payloads: Serializer) -> None:
    """Run every serializer, so one 400 lists every problem of the body."""
    errors: dict[str, Any] = {}
    for payload in payloads:
        if not payload.is_valid():
            errors.update(payload.errors)
    if errors:
        raise DrfValidationError(errors)


def _moc_detail(moc: Moc, request: Request) -> dict[str, Any]:
    """MocDetail of a MOC a service just changed, read again with its files and lists."""
    return MocDetailSerializer(moc_detail_queryset().get(pk=moc.pk), context={"request": request}).data


# --- M7 -----------------------------------------------------------------------------------------------------------------


class MocCreateWithFilesView(APIView):
    """M7 `POST /api/mocs/with-files`: create a MOC with its files in one multipart request, all or nothing."""

    parser_classes = [FilePartsParser]
    rate_limit_category = UPLOAD
    declared_errors = {"POST": (409,)}  # duplicate title (documented by lego_api.core.openapi)

    @extend_schema(
        operation_id="mocs_create_with_files",
        summary="Create a MOC with its files (M7)",
        description=(
            "Multipart: MocWrite text fields plus `instructionsFile` (1-10), `partsLists` (0-10) and `images` (0-3; "
            "the first becomes the thumbnail). At most 10 files and 50 MB in total. All or nothing: every file "
            "problem is a 400 with the file name as prefix."
        ),
        request={"multipart/form-data": MocCreateWithFilesSerializer},
        responses={201: envelope(MocDetailSerializer, message=True, name="MocCreatedWithFilesEnvelope")},
    )
    def post(self, request: Request) -> Response:
        parts = file_parts(request, CREATE_FILE_FIELDS)
        payload = MocWriteSerializer(data=form_fields(request, lists=("tags",)), context={"instance": None})
        payload.is_valid(raise_exception=True)
        by_field: dict[str, list[Any]] = {name: [] for name in CREATE_FILE_FIELDS}
        for part in parts:
            by_field[part.field].append(part.file)
        moc = moc_create_with_files(
            user_id=request.user.id,
            data=payload.validated_data,
            instructions=by_field[INSTRUCTIONS_FIELD],
            parts_lists=by_field[PARTS_LISTS_FIELD],
            images=by_field[IMAGES_FIELD],
        )
        return success(_moc_detail(moc, request), message="MOC created successfully with files", status=201)


# --- M8 / M9 / M10 -------------------------------------------------------------------------------------------------


class MocInitializeView(APIView):
    """M8 `POST /api/mocs/with-files/initialize`: create a MOC and declare its files for presigned uploads."""

    rate_limit_category = UPLOAD
    declared_errors = {"POST": (409,)}  # duplicate title

    @extend_schema(
        operation_id="mocs_initialize_with_files",
        summary="Create a MOC and get upload URLs for its files (M8)",
        request=MocInitializeSerializer,
        responses={201: envelope(MocInitializedSerializer, message=True, name="MocInitializedEnvelope")},
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
        data = MocInitializedSerializer(result, context={"request": request}).data
        return success(data, message="MOC initialized; upload the files, then call finalize", status=201)


class FilesInitializeView(APIView):
    """M9 `POST /api/mocs/{id}/files/initialize`: declare files of an existing MOC for presigned uploads."""

    rate_limit_category = UPLOAD
    declared_errors = {"POST": (409,)}  # per-MOC caps

    @extend_schema(
        operation_id="mocs_files_initialize",
        summary="Get upload URLs for new files of a MOC (M9)",
        request=FilesInitializeSerializer,
        responses={201: envelope(MocFilesInitializedSerializer, name="MocFilesInitializedEnvelope")},
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
        return success(MocFilesInitializedSerializer(result).data, status=201)


class FinalizeView(APIView):
    """M10 `POST /api/mocs/{id}/finalize`: verify the uploaded files and publish them, all or nothing."""

    @extend_schema(
        operation_id="mocs_finalize",
        summary="Verify and publish presigned uploads (M10)",
        request=FinalizeSerializer,
        responses={200: envelope(MocDetailSerializer, message=True, name="MocUploadFinalizedEnvelope")},
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        payload = FinalizeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        entries = [(entry["file_id"], entry["success"]) for entry in payload.validated_data["uploaded_files"]]
        moc = moc_files_finalize(moc=moc, entries=entries)
        return success(_moc_detail(moc, request), message="Upload finalized")


# --- M11 ----------------------------------------------------------------------------------------------------------------


class FileUploadView(APIView):
    """M11 `POST /api/mocs/{id}/files`: one file (errors map directly) or several (each succeeds on its own)."""

    parser_classes = [FilePartsParser]  # `fileType_{i}` counts parts in order of appearance, across both fields
    rate_limit_category = UPLOAD
    declared_errors = {"POST": (409,)}  # per-MOC caps, the thumbnail index

    @extend_schema(
        operation_id="mocs_files_upload",
        summary="Upload files to a MOC (M11)",
        description=(
            "Multipart: 1-10 files under `file` or `files` (50 MB in total). File *i* (0-based, in order) takes its "
            "type from `fileType_{i}`, else from `fileType`. One file: 201 `data: MocFile`. Several: 201 with "
            "`uploaded`, `failed` and `summary` when at least one was stored, else 400 `No files were uploaded`."
        ),
        request={"multipart/form-data": MocFilesUploadSerializer},
        responses={
            201: PolymorphicProxySerializer(
                component_name="MocFilesUploadResult",
                serializers=[
                    envelope(MocFileSerializer, message=True, name="MocFileUploadedEnvelope"),
                    envelope(MocFilesUploadedSerializer, message=True, name="MocFilesUploadedEnvelope"),
                ],
                resource_type_field_name=None,
            )
        },
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        uploads = [part.file for part in file_parts(request, UPLOAD_FILE_FIELDS)]
        if not uploads:
            raise ValidationFailed.route_message(MSG_NO_FILES, "files")
        check_request_files(uploads)
        items = [self._item(request.POST, index, upload) for index, upload in enumerate(uploads)]
        if len(items) == 1:
            row = moc_file_upload(moc=moc, item=items[0])
            data = MocFileSerializer(row, context={"request": request}).data
            return success(data, message="File uploaded successfully", status=201)

        result = moc_files_upload(moc=moc, items=items)
        data = MocFilesUploadedSerializer(result, context={"request": request}).data
        return success(data, message=f"{result.succeeded} of {result.total} files uploaded", status=201)

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
        responses={200: envelope(DeletedFileSerializer, message=True, name="MocFileDeletedEnvelope")},
    )
    def delete(self, request: Request, id: str, file_id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        deleted = {"id": moc_file_delete(moc=moc, file_id=file_id)}
        return success(DeletedFileSerializer(deleted).data, message="File deleted successfully")


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
            200: envelope(MocFileDownloadSerializer, name="MocFileDownloadEnvelope"),
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
        return success(MocFileDownloadSerializer(link).data)
