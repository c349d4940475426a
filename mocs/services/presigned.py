"""The presigned flow for large MOC files (SPEC §4.2 M8-M10, §5.4): declare files (pending rows and presigned PUTs),
then finalize: verify what the client uploaded and publish it, all or nothing.

The client writes the objects itself, so here the rows come first (pending) and the objects after; finalize writes
no object of its own. Pending files that are never finalized are removed by the sweeper after 24 h
(`mocs.services.files.files_delete_stale_pending`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import transaction

from lego_api.core import metrics, storage
from lego_api.core.exceptions import ApiError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from lego_api.core.files import (
    MSG_EMPTY,
    SNIFF_BYTES,
    CheckedFile,
    DeclaredFile,
    FileKind,
    check_declared,
    check_file,
    extension_of,
)
from lego_api.core.uploads import delete_after_commit
from mocs.file_kinds import MOC_FILE_KINDS
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType
from mocs.services.caps import (
    MAX_IMAGES_PER_CREATE,
    MAX_INSTRUCTION_FILES,
    MAX_PARTS_LISTS,
    MAX_THUMBNAILS_PER_REQUEST,
    MSG_INSTRUCTION_REQUIRED,
    MSG_TOO_MANY_IMAGES,
    MSG_TOO_MANY_INSTRUCTIONS,
    MSG_TOO_MANY_PARTS_LISTS,
    MSG_TOO_MANY_THUMBNAILS,
    check_file_caps,
)
from mocs.services.files import file_row_create, thumbnail_replace
from mocs.services.mocs import moc_changed, moc_create, moc_lock, moc_touch
from mocs.services.parts_lists import parts_list_create_pending

if TYPE_CHECKING:
    from django.http import HttpRequest

MSG_NO_SUCCESS = "No files were successfully uploaded"
MSG_VERIFICATION_FAILED = "Some files failed verification"
MSG_NOT_UPLOADED = "File was not uploaded"
MSG_SIZE_MISMATCH = "File size does not match the declared size ({actual} bytes uploaded, {declared} declared)"

# A presigned key is fixed before any byte exists, so it takes the declared extension, spelled as §5.3 spells it.
_KEY_EXTENSION = {"jpeg": "jpg", "heif": "heic"}


@dataclass(frozen=True)
class FileDeclaration:
    """One `files` entry of M8/M9, as the payload serializer validated it."""

    filename: str
    file_type: str
    mime_type: str
    size: int


@dataclass
class InitializedUpload:
    """M8/M9 result: the MOC, and one presigned upload per declared file, in request order."""

    moc: Moc
    upload_urls: list[dict[str, Any]] = field(default_factory=list)
    expires_in: int = storage.DEFAULT_EXPIRY


# --- M8 / M9: declare files ------------------------------------------------------------------------------------------


def _declaration_error(exc: ApiError, *, kind: FileKind, declaration: FileDeclaration, index: int) -> ApiError:
    """Re-aim a `check_declared` error at the entry's field: `files.{i}.size|filename|mimeType`."""
    if isinstance(exc, PayloadTooLarge) or exc.message == MSG_EMPTY:
        name = "size"
    elif isinstance(exc, UnsupportedMediaType) and extension_of(declaration.filename) not in kind.extensions:
        name = "filename"
    else:
        name = "mimeType"
    exc.details["fields"] = {f"files.{index}.{name}": [exc.message]}
    return exc


def _check_declarations(declarations: Sequence[FileDeclaration]) -> list[DeclaredFile]:
    checked = []
    for index, declaration in enumerate(declarations):
        kind = MOC_FILE_KINDS[declaration.file_type]
        try:
            checked.append(
                check_declared(
                    kind,
                    field="files",
                    filename=declaration.filename,
                    declared_mime=declaration.mime_type,
                    size=declaration.size,
                )
            )
        except ApiError as exc:
            raise _declaration_error(exc, kind=kind, declaration=declaration, index=index) from None
    return checked


def _check_declared_counts(declarations: Sequence[FileDeclaration], *, new_moc: bool) -> Counter[str]:
    """The per-request counts of M8 (new MOC) and M9, each failure a 400 on `files`."""
    counts = Counter(declaration.file_type for declaration in declarations)
    messages = []
    if new_moc:
        if not counts[MocFileType.INSTRUCTION]:
            messages.append(MSG_INSTRUCTION_REQUIRED)
        if counts[MocFileType.INSTRUCTION] > MAX_INSTRUCTION_FILES:
            messages.append(MSG_TOO_MANY_INSTRUCTIONS)
        if counts[MocFileType.PARTS_LIST] > MAX_PARTS_LISTS:
            messages.append(MSG_TOO_MANY_PARTS_LISTS)
        if counts[MocFileType.THUMBNAIL] + counts[MocFileType.GALLERY_IMAGE] > MAX_IMAGES_PER_CREATE:
            messages.append(MSG_TOO_MANY_IMAGES)
    if counts[MocFileType.THUMBNAIL] > MAX_THUMBNAILS_PER_REQUEST:
        messages.append(MSG_TOO_MANY_THUMBNAILS)
    if messages:
        raise ValidationFailed(fields={"files": messages})
    return counts


def _declare(
    *, moc: Moc, declarations: Sequence[FileDeclaration], checked: Sequence[DeclaredFile], request: HttpRequest | None
) -> InitializedUpload:
    """Create one `pending` row per declared file (declared type and size) and its presigned upload."""
    result = InitializedUpload(moc=moc)
    for declaration, declared in zip(declarations, checked, strict=True):
        row = file_row_create(
            moc=moc,
            file_type=declaration.file_type,
            extension=_KEY_EXTENSION.get(declared.extension, declared.extension),
            filename=declared.filename,
            mime_type=declaration.mime_type.strip()[:127],
            size=declared.size,
            status=MocFileStatus.PENDING,
        )
        upload = storage.presigned_upload(
            row.file_url,
            content_type=declared.mime_type,
            max_bytes=MOC_FILE_KINDS[declaration.file_type].max_bytes,
            request=request,
        )
        result.expires_in = upload["expiresIn"]
        result.upload_urls.append(
            {
                "file_id": row.pk,
                "filename": declared.filename,
                "file_type": declaration.file_type,
                "upload_url": upload["uploadUrl"],
                "method": upload["method"],
                "headers": upload["headers"],
                "expires_in": upload["expiresIn"],
            }
        )
    return result


def moc_initialize_with_files(
    *, user_id: str, data: dict[str, Any], declarations: Sequence[FileDeclaration], request: HttpRequest | None = None
) -> InitializedUpload:
    """M8: check the declared files (entry rules, then counts), create the MOC (409 on a duplicate title), one
    `pending` row per file, and a presigned upload for each."""
    checked = _check_declarations(declarations)
    _check_declared_counts(declarations, new_moc=True)
    with transaction.atomic():
        moc = moc_create(user_id=user_id, data=data)
        return _declare(moc=moc, declarations=declarations, checked=checked, request=request)


def moc_files_initialize(
    *, moc: Moc, declarations: Sequence[FileDeclaration], request: HttpRequest | None = None
) -> InitializedUpload:
    """M9: declare files for an existing MOC; the per-MOC caps count existing files, pending ones included (409)."""
    checked = _check_declarations(declarations)
    counts = _check_declared_counts(declarations, new_moc=False)
    with transaction.atomic():
        moc = moc_lock(moc_id=moc.pk)
        check_file_caps(moc=moc, adding=counts)
        result = _declare(moc=moc, declarations=declarations, checked=checked, request=request)
        moc_changed(moc=moc, reindex=False)
    return result


# --- M10: finalize ---------------------------------------------------------------------------------------------------


def _verify_pending(file: MocFile) -> CheckedFile:
    """HEAD, exact declared size, sniff and (images) Pillow checks of a pending file's object (SPEC §4.2 M10)."""
    kind = MOC_FILE_KINDS[file.file_type]
    info = storage.head(file.file_url)
    if info is None:
        raise ValidationFailed.route_message(MSG_NOT_UPLOADED, "uploadedFiles")
    if info.size != file.file_size:
        raise ValidationFailed.route_message(
            MSG_SIZE_MISMATCH.format(actual=info.size, declared=file.file_size), "uploadedFiles"
        )
    try:
        head = storage.read_head(file.file_url, SNIFF_BYTES)
        return check_file(
            kind,
            field="uploadedFiles",
            filename=file.original_filename,
            declared_mime=file.mime_type,
            size=info.size,
            head=head,
            open_image=(lambda: storage.open_object(file.file_url)) if kind.is_image else None,
        )
    except FileNotFoundError:  # deleted between the HEAD and the read
        raise ValidationFailed.route_message(MSG_NOT_UPLOADED, "uploadedFiles") from None


def _verify_all(files: Sequence[MocFile]) -> dict[UUID, CheckedFile]:
    """Every file verified, or 400 `Some files failed verification` with one message per failing file."""
    verified: dict[UUID, CheckedFile] = {}
    failures: list[tuple[MocFile, str]] = []
    for file in files:
        try:
            verified[file.pk] = _verify_pending(file)
        except ApiError as exc:
            failures.append((file, exc.message))
    if failures:
        raise ValidationFailed(
            MSG_VERIFICATION_FAILED,
            fields={"uploadedFiles": [f"{file.original_filename}: {error}" for file, error in failures]},
            details={
                "files": [
                    {"file_id": str(file.pk), "filename": file.original_filename, "error": error}
                    for file, error in failures
                ]
            },
        )
    return verified


def _publish(moc: Moc, file: MocFile, checked: CheckedFile) -> None:
    """A verified file becomes `ready` with its real size and detected type; an explicit thumbnail replaces the
    current one; a parts-list file gets a pending list (parsed by a task)."""
    if file.file_type == MocFileType.THUMBNAIL:
        thumbnail_replace(moc=moc, key=file.file_url)
    file.status = MocFileStatus.READY
    file.file_size = checked.size
    file.mime_type = checked.mime_type
    file.save(update_fields=["status", "file_size", "mime_type"])
    if file.file_type == MocFileType.PARTS_LIST:
        parts_list_create_pending(moc=moc, file=file)


def moc_files_finalize(*, moc: Moc, entries: Sequence[tuple[UUID, bool]]) -> Moc:
    """M10: verify every pending file reported uploaded (all or nothing), then publish them.

    On success: files reported `success: false` are deleted; verified files are published (`_publish`); with no
    thumbnail at all, the first verified image becomes it. Files already `ready` are skipped, so a retry is harmless.
    """
    ids = [file_id for file_id, _ in entries]
    if len(set(ids)) != len(ids):
        raise ValidationFailed.on_field("uploadedFiles", "Each fileId may appear only once.")

    with transaction.atomic():
        moc = moc_lock(moc_id=moc.pk)
        files = {file.pk: file for file in MocFile.objects.filter(moc_id=moc.pk, pk__in=ids)}
        unknown = [str(file_id) for file_id in ids if file_id not in files]
        if unknown:
            raise ValidationFailed(fields={"uploadedFiles": [f"File not found: {file_id}" for file_id in unknown]})
        if not any(success for _, success in entries):
            raise ValidationFailed.route_message(MSG_NO_SUCCESS, "uploadedFiles")

        pending = [(files[file_id], success) for file_id, success in entries]
        pending = [(file, success) for file, success in pending if file.status == MocFileStatus.PENDING]
        to_publish = [file for file, success in pending if success]
        verified = _verify_all(to_publish)

        # A presigned PUT signs only Content-Type: non-image objects get their download headers now (SPEC §5.3).
        for file in to_publish:
            storage.apply_serving_headers(
                file.file_url, filename=file.original_filename, mime_type=verified[file.pk].mime_type
            )

        discarded = [file for file, success in pending if not success]
        if discarded:
            MocFile.objects.filter(pk__in=[file.pk for file in discarded]).delete()
            delete_after_commit(file.file_url for file in discarded)

        for file in to_publish:
            _publish(moc, file, verified[file.pk])

        if not moc.thumbnail_url:
            has_thumbnail = MocFile.objects.filter(
                moc_id=moc.pk, file_type=MocFileType.THUMBNAIL, status=MocFileStatus.READY
            ).exists()
            first_image = next((f for f in to_publish if f.file_type == MocFileType.GALLERY_IMAGE), None)
            if not has_thumbnail and first_image is not None:
                first_image.file_type = MocFileType.THUMBNAIL
                first_image.save(update_fields=["file_type"])
                thumbnail_replace(moc=moc, key=first_image.file_url)

        moc_touch(moc=moc)
        metrics.emit_on_commit("FilesUploaded", len(to_publish), properties={"flow": "presigned"})
    return moc
