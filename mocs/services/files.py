"""MOC file services (SPEC §4.2 M7-M13, §5): multipart uploads, the presigned two-step flow, deletes, downloads and
the stale-upload sweep.

Every write follows one rule, so nothing is ever half-written: the object is written first, then its row inside a
transaction (a savepoint per file when files succeed or fail on their own); any failure after the object write
deletes the object again, and objects a committed change makes obsolete are deleted after commit by
`delete_storage_objects`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from lego_api.core import cache as response_cache
from lego_api.core import metrics, storage
from lego_api.core.exceptions import (
    ApiError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from lego_api.core.files import (
    MB,
    MOC_FILE_KINDS,
    MSG_EMPTY,
    SNIFF_BYTES,
    CheckedFile,
    DeclaredFile,
    FileKind,
    check_declared,
    check_file,
    clean_filename,
    extension_of,
)
from lego_api.core.tasks import delete_storage_objects
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType, MocPartsList
from mocs.services.mocs import DUPLICATE_TITLE, moc_changed, moc_create, moc_lock, moc_title_taken, moc_touch

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest

    from mocs.parsers import ParseResult

logger = logging.getLogger("lego_api.mocs.files")

# Request-wide limits of the multipart routes (SPEC §5.1 "Multi-file request").
MAX_FILES_PER_REQUEST = 10
MAX_REQUEST_FILES_BYTES = 50 * MB
# Per-MOC caps (SPEC §4.2 M11); pending files count too, since they become ready on finalize.
MAX_INSTRUCTION_FILES = 10
MAX_PARTS_LISTS = 10
MAX_GALLERY_IMAGE_FILES = 10
# M7 / M8 per-request counts.
MAX_IMAGES_PER_CREATE = 3
MAX_THUMBNAILS_PER_REQUEST = 1
# S3 DeleteObjects takes 1000 keys; the task's argument list is kept to that (SPEC §7.3).
DELETE_BATCH = 1000

MSG_NO_FILES = "No files provided"
MSG_TOO_MANY_FILES = "At most 10 files per request"
MSG_TOTAL_TOO_LARGE = "Files too large (max 50 MB in total)"
MSG_UNEXPECTED_FIELD = "Unexpected file field"
MSG_NONE_UPLOADED = "No files were uploaded"
MSG_INSTRUCTION_CAP = "MOC already has 10 instruction files"
MSG_PARTS_LIST_CAP = "A MOC can have at most 10 parts lists"
MSG_GALLERY_IMAGE_CAP = "MOC already has 10 gallery images"
MSG_INSTRUCTION_REQUIRED = "At least one instruction file is required"
MSG_TOO_MANY_INSTRUCTIONS = "At most 10 instruction files are allowed"
MSG_TOO_MANY_PARTS_LISTS = "At most 10 parts lists are allowed"
MSG_TOO_MANY_IMAGES = "At most 3 images are allowed"
MSG_TOO_MANY_THUMBNAILS = "At most 1 thumbnail is allowed"
MSG_NO_SUCCESS = "No files were successfully uploaded"
MSG_VERIFICATION_FAILED = "Some files failed verification"
MSG_NOT_UPLOADED = "File was not uploaded"
MSG_SIZE_MISMATCH = "File size does not match the declared size ({actual} bytes uploaded, {declared} declared)"
MSG_FILE_NOT_FOUND = "File not found"
MSG_REQUIRED = "This field is required."
MSG_INVALID_CHOICE = '"{value}" is not a valid choice.'

# M7 file fields and the kind each one takes (the first image is the thumbnail, the rest gallery images).
M7_INSTRUCTIONS_FIELD = "instructionsFile"
M7_PARTS_LISTS_FIELD = "partsLists"
M7_IMAGES_FIELD = "images"

# A presigned key is fixed before any byte exists, so it takes the declared extension, spelled as §5.3 spells it.
_KEY_EXTENSION = {"jpeg": "jpg", "heif": "heic"}


# --- Inputs and results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileUpload:
    """One file part of M11 with the `fileType` value that applies to it (`fileType_{i}`, else `fileType`)."""

    upload: UploadedFile
    file_type: str | None
    type_field: str  # the text field the type came from, for error messages


@dataclass(frozen=True)
class UploadFailure:
    filename: str
    error: str


@dataclass
class MultiUploadResult:
    uploaded: list[MocFile]
    failed: list[UploadFailure]

    @property
    def total(self) -> int:
        return len(self.uploaded) + len(self.failed)


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


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_in: int | None
    expires_at: dt.datetime | None


# --- Small helpers --------------------------------------------------------------------------------------------------


def _locked(moc: Moc) -> Moc:
    """The MOC row locked for this transaction, taken before any write: serialises cap checks and thumbnail swaps per
    MOC, and answers 404 if a concurrent delete got there first."""
    return moc_lock(moc_id=moc.pk)


def _delete_objects_after_commit(keys: Iterable[str | None]) -> None:
    unique = [key for key in dict.fromkeys(keys) if key]
    for start in range(0, len(unique), DELETE_BATCH):
        delete_storage_objects.delay(unique[start : start + DELETE_BATCH])


def _delete_objects_now(keys: Iterable[str]) -> None:
    """Undo object writes whose rows will never exist; a failure here only leaves an orphan, so it is logged."""
    keys = list(keys)
    if not keys:
        return
    try:
        storage.delete_keys(keys)
    except Exception:  # the original error matters more than the cleanup's
        logger.exception("could not delete objects of a failed upload", extra={"keys": keys[:10]})


@contextlib.contextmanager
def _cleanup_on_failure(written: list[str]) -> Iterator[list[str]]:
    """Objects listed in `written` are deleted again if the block (the whole transaction) fails."""
    try:
        yield written
    except BaseException:
        _delete_objects_now(written)
        raise


def _head_of(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return head


def _content_of(upload: UploadedFile) -> bytes:
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    return content


def _file_of(upload: UploadedFile) -> IO[bytes]:
    """The seekable file under an upload (in memory, or a temporary file for large parts)."""
    return upload.file


def _check_upload(kind: FileKind, upload: UploadedFile, *, field: str) -> CheckedFile:
    """The SPEC §5.2 checks on a multipart file part (Pillow checks included for images)."""
    return check_file(
        kind,
        field=field,
        filename=upload.name,
        declared_mime=upload.content_type,
        size=upload.size,
        head=_head_of(upload),
        open_image=_file_of(upload) if kind.is_image else None,
    )


def _parse_or_raise(content: bytes, *, field: str) -> ParseResult:
    from mocs.services.parts_lists import parse_or_raise

    return parse_or_raise(content, field=field)


def _store_parsed(*, moc: Moc, result: ParseResult, file: MocFile) -> MocPartsList:
    from mocs.services.parts_lists import parts_list_store_parsed

    return parts_list_store_parsed(moc=moc, result=result, file=file, title=None)


def _create_pending_parts_list(*, moc: Moc, file: MocFile) -> MocPartsList:
    from mocs.services.parts_lists import parts_list_create_pending

    return parts_list_create_pending(moc=moc, file=file)


def _error_text(exc: ApiError) -> str:
    """One line for an error in a per-file report: the message, or for a field rule, `field: message`; a parse
    failure gets its first line number too."""
    fields = exc.details.get("fields") or {}
    first_field, first_messages = next(iter(fields.items()), (None, []))
    first = first_messages[0] if first_messages else None
    if exc.message == ValidationFailed.default_message and first:
        return f"{first_field}: {first}"
    if first and first != exc.message:
        return f"{exc.message}: {first}"
    return exc.message


def _remove_ready_thumbnails(moc: Moc, *, keep: MocFile | None = None) -> list[str]:
    """Delete the MOC's ready thumbnail rows (before a new one becomes ready: one per MOC); their keys are returned
    for deletion after commit."""
    old = MocFile.objects.filter(moc_id=moc.pk, file_type=MocFileType.THUMBNAIL, status=MocFileStatus.READY)
    if keep is not None:
        old = old.exclude(pk=keep.pk)
    keys = list(old.values_list("file_url", flat=True))
    if keys:
        old.delete()
    return keys


def _set_thumbnail_url(moc: Moc, key: str | None) -> None:
    moc.thumbnail_url = key
    Moc.objects.filter(pk=moc.pk).update(thumbnail_url=key)


# --- Per-MOC caps ---------------------------------------------------------------------------------------------------


def _check_caps(moc: Moc, adding: Counter[str]) -> None:
    """409 when adding files of these types would pass a per-MOC cap (existing files, pending ones included)."""
    if not adding:
        return
    counts = _file_type_counts(moc)
    if adding[MocFileType.INSTRUCTION] and (
        counts[MocFileType.INSTRUCTION] + adding[MocFileType.INSTRUCTION] > MAX_INSTRUCTION_FILES
    ):
        raise Conflict(MSG_INSTRUCTION_CAP)
    if adding[MocFileType.PARTS_LIST]:
        from mocs.services.parts_lists import parts_list_slots_used

        if parts_list_slots_used(moc=moc) + adding[MocFileType.PARTS_LIST] > MAX_PARTS_LISTS:
            raise Conflict(MSG_PARTS_LIST_CAP)
    if adding[MocFileType.GALLERY_IMAGE] and (
        counts[MocFileType.GALLERY_IMAGE] + adding[MocFileType.GALLERY_IMAGE] > MAX_GALLERY_IMAGE_FILES
    ):
        raise Conflict(MSG_GALLERY_IMAGE_CAP)


def _file_type_counts(moc: Moc) -> Counter[str]:
    rows = MocFile.objects.filter(moc_id=moc.pk).values("file_type").annotate(n=Count("id")).order_by()
    return Counter({row["file_type"]: row["n"] for row in rows})


# --- M11: multipart upload to an existing MOC ----------------------------------------------------------------------


def _resolve_type(item: FileUpload, *, field: str) -> str:
    if item.file_type is None or not item.file_type.strip():
        raise ValidationFailed.on_field(field, MSG_REQUIRED)
    file_type = item.file_type.strip()
    if file_type not in MOC_FILE_KINDS:
        raise ValidationFailed.on_field(field, MSG_INVALID_CHOICE.format(value=file_type))
    return file_type


def _store_upload(*, moc: Moc, item: FileUpload, field: str, type_field: str, written: list[str]) -> MocFile:
    """Check, parse and store one file part of M11 (inside the caller's savepoint). Raises the file's error."""
    file_type = _resolve_type(item, field=type_field)
    _check_caps(moc, Counter({file_type: 1}))
    kind = MOC_FILE_KINDS[file_type]
    checked = _check_upload(kind, item.upload, field=field)
    parsed = _parse_or_raise(_content_of(item.upload), field=field) if file_type == MocFileType.PARTS_LIST else None

    file_id = uuid.uuid4()
    key = storage.moc_file_key(moc.user_id, moc.pk, file_id, checked.extension)
    storage.save_bytes(key, _file_of(item.upload), content_type=checked.mime_type, filename=checked.filename)
    written.append(key)
    try:
        with transaction.atomic():
            old_keys = _remove_ready_thumbnails(moc) if file_type == MocFileType.THUMBNAIL else []
            row = MocFile.objects.create(
                id=file_id,
                moc=moc,
                file_type=file_type,
                file_url=key,
                original_filename=checked.filename,
                mime_type=checked.mime_type,
                file_size=checked.size,
                status=MocFileStatus.READY,
            )
            if file_type == MocFileType.THUMBNAIL:
                _set_thumbnail_url(moc, key)
                _delete_objects_after_commit(old_keys)
            if parsed is not None:
                _store_parsed(moc=moc, result=parsed, file=row)
            metrics.emit_on_commit("FilesUploaded", 1, properties={"fileType": file_type, "bytes": checked.size})
    except BaseException:
        written.remove(key)
        _delete_objects_now([key])
        raise
    return row


def moc_file_upload(*, moc: Moc, item: FileUpload) -> MocFile:
    """M11 with exactly one file part: store it, or raise its error as is (400/409/413/415, parse errors on `file`).

    The type error names `fileType`, whichever field it came from (the renderer would fold `fileType_0`)."""
    written: list[str] = []
    with _cleanup_on_failure(written), transaction.atomic():
        moc = _locked(moc)
        row = _store_upload(moc=moc, item=item, field="file", type_field="fileType", written=written)
        moc_touch(moc=moc)
    return row


def moc_files_upload(*, moc: Moc, items: Sequence[FileUpload]) -> MultiUploadResult:
    """M11 with several file parts: each is stored or fails on its own (a savepoint each).

    400 `No files were uploaded` (with `details.fields.files` and `details.failed`) when none is stored.
    """
    uploaded: list[MocFile] = []
    failed: list[UploadFailure] = []
    written: list[str] = []
    with _cleanup_on_failure(written), transaction.atomic():
        moc = _locked(moc)
        for item in items:
            try:
                row = _store_upload(moc=moc, item=item, field="files", type_field=item.type_field, written=written)
            except ApiError as exc:
                failed.append(UploadFailure(filename=clean_filename(item.upload.name), error=_error_text(exc)))
            else:
                uploaded.append(row)
        if uploaded:
            moc_touch(moc=moc)
    if not uploaded:
        raise ValidationFailed(
            MSG_NONE_UPLOADED,
            fields={"files": [f"{failure.filename}: {failure.error}" for failure in failed]},
            details={"failed": [{"filename": failure.filename, "error": failure.error} for failure in failed]},
        )
    return MultiUploadResult(uploaded=uploaded, failed=failed)


def check_request_files(uploads: Sequence[UploadedFile], *, field: str = "nonFieldErrors") -> None:
    """The multi-file request limits (SPEC §5.1): at most 10 files (400) and, with several, 50 MB in total (413).

    A single file is left to its kind's own limit, whose message names the real maximum.
    """
    if len(uploads) > MAX_FILES_PER_REQUEST:
        raise ValidationFailed.route_message(MSG_TOO_MANY_FILES, field)
    if len(uploads) > 1 and sum(upload.size or 0 for upload in uploads) > MAX_REQUEST_FILES_BYTES:
        raise PayloadTooLarge(MSG_TOTAL_TOO_LARGE, fields={field: [MSG_TOTAL_TOO_LARGE]})


# --- M7: create a MOC with its files, all or nothing ---------------------------------------------------------------


@dataclass
class _PreparedFile:
    upload: UploadedFile
    file_type: str
    checked: CheckedFile
    parsed: ParseResult | None = None


def _prefixed(name: str, messages: Iterable[str]) -> list[str]:
    return [f"{name}: {message}" for message in messages]


def moc_create_with_files(
    *,
    user_id: str,
    data: dict[str, Any],
    instructions: Sequence[UploadedFile],
    parts_lists: Sequence[UploadedFile],
    images: Sequence[UploadedFile],
) -> Moc:
    """M7: title (409), file presence and counts (400, 413 over 50 MB in total), every file's checks and every parts
    list's parse (all reported together, each message prefixed by the file name, all 400), then the MOC, its files,
    its thumbnail and its ready parts lists in one transaction. On any failure nothing is kept."""
    if moc_title_taken(user_id=user_id, title=data["title"]):
        raise Conflict(DUPLICATE_TITLE)

    everything = [*instructions, *parts_lists, *images]
    if len(everything) > MAX_FILES_PER_REQUEST:
        raise ValidationFailed.route_message(MSG_TOO_MANY_FILES)
    count_errors: dict[str, list[str]] = {}
    if not instructions:
        count_errors[M7_INSTRUCTIONS_FIELD] = [MSG_INSTRUCTION_REQUIRED]
    if len(images) > MAX_IMAGES_PER_CREATE:
        count_errors[M7_IMAGES_FIELD] = [MSG_TOO_MANY_IMAGES]
    if count_errors:
        raise ValidationFailed(fields=count_errors)
    check_request_files(everything)

    groups: list[tuple[str, list[tuple[UploadedFile, str]]]] = [
        (M7_INSTRUCTIONS_FIELD, [(upload, MocFileType.INSTRUCTION) for upload in instructions]),
        (M7_PARTS_LISTS_FIELD, [(upload, MocFileType.PARTS_LIST) for upload in parts_lists]),
        (
            M7_IMAGES_FIELD,
            [
                (upload, MocFileType.THUMBNAIL if index == 0 else MocFileType.GALLERY_IMAGE)
                for index, upload in enumerate(images)
            ],
        ),
    ]
    errors: dict[str, list[str]] = {}
    prepared: list[_PreparedFile] = []
    for field_name, uploads in groups:
        for upload, file_type in uploads:
            name = clean_filename(upload.name)
            try:
                checked = _check_upload(MOC_FILE_KINDS[file_type], upload, field=field_name)
                parsed = (
                    _parse_or_raise(_content_of(upload), field=field_name)
                    if file_type == MocFileType.PARTS_LIST
                    else None
                )
            except ApiError as exc:
                # Size and type problems are 400 here too (all-or-nothing create): only the messages are kept.
                messages = (exc.details.get("fields") or {}).get(field_name) or [exc.message]
                errors.setdefault(field_name, []).extend(_prefixed(name, messages))
                continue
            prepared.append(_PreparedFile(upload=upload, file_type=file_type, checked=checked, parsed=parsed))
    if errors:
        raise ValidationFailed(fields=errors)

    written: list[str] = []
    with _cleanup_on_failure(written), transaction.atomic():
        moc = moc_create(user_id=user_id, data=data)
        for item in prepared:
            file_id = uuid.uuid4()
            key = storage.moc_file_key(user_id, moc.pk, file_id, item.checked.extension)
            storage.save_bytes(
                key, _file_of(item.upload), content_type=item.checked.mime_type, filename=item.checked.filename
            )
            written.append(key)
            row = MocFile.objects.create(
                id=file_id,
                moc=moc,
                file_type=item.file_type,
                file_url=key,
                original_filename=item.checked.filename,
                mime_type=item.checked.mime_type,
                file_size=item.checked.size,
                status=MocFileStatus.READY,
            )
            if item.file_type == MocFileType.THUMBNAIL:
                _set_thumbnail_url(moc, key)
            if item.parsed is not None:
                _store_parsed(moc=moc, result=item.parsed, file=row)
        metrics.emit_on_commit("FilesUploaded", len(prepared), properties={"flow": "with-files"})
    return moc


# --- M8 / M9: declare files for presigned uploads ------------------------------------------------------------------


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
        kind = MOC_FILE_KINDS[declaration.file_type]
        file_id = uuid.uuid4()
        extension = _KEY_EXTENSION.get(declared.extension, declared.extension)
        key = storage.moc_file_key(moc.user_id, moc.pk, file_id, extension)
        MocFile.objects.create(
            id=file_id,
            moc=moc,
            file_type=declaration.file_type,
            file_url=key,
            original_filename=declared.filename,
            mime_type=declaration.mime_type.strip()[:127],
            file_size=declared.size,
            status=MocFileStatus.PENDING,
        )
        upload = storage.presigned_upload(
            key, content_type=declared.mime_type, max_bytes=kind.max_bytes, request=request
        )
        result.expires_in = upload["expiresIn"]
        result.upload_urls.append(
            {
                "file_id": file_id,
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
        moc = _locked(moc)
        _check_caps(moc, counts)
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


def moc_files_finalize(*, moc: Moc, entries: Sequence[tuple[UUID, bool]]) -> Moc:
    """M10: verify every pending file reported uploaded (all or nothing), then publish them.

    On success: files reported `success: false` are deleted; verified files become `ready` with their real size and
    detected type; an explicit thumbnail replaces the current one, else (with no thumbnail at all) the first verified
    image becomes it; each verified parts-list file gets a pending parts list (parsed by a task). Files already
    `ready` are skipped, so a retry is harmless.
    """
    ids = [file_id for file_id, _ in entries]
    if len(set(ids)) != len(ids):
        raise ValidationFailed.on_field("uploadedFiles", "Each fileId may appear only once.")

    with transaction.atomic():
        moc = _locked(moc)
        files = {file.pk: file for file in MocFile.objects.filter(moc_id=moc.pk, pk__in=ids)}
        unknown = [str(file_id) for file_id in ids if file_id not in files]
        if unknown:
            raise ValidationFailed(fields={"uploadedFiles": [f"File not found: {file_id}" for file_id in unknown]})
        if not any(success for _, success in entries):
            raise ValidationFailed.route_message(MSG_NO_SUCCESS, "uploadedFiles")

        to_publish = [
            files[file_id] for file_id, success in entries if success and files[file_id].status == MocFileStatus.PENDING
        ]
        verified: dict[UUID, CheckedFile] = {}
        failures: list[tuple[MocFile, str]] = []
        for file in to_publish:
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

        # A presigned PUT signs only Content-Type: non-image objects get their download headers now (SPEC §5.3).
        for file in to_publish:
            storage.apply_serving_headers(
                file.file_url, filename=file.original_filename, mime_type=verified[file.pk].mime_type
            )

        obsolete: list[str] = []
        discarded = [
            files[file_id]
            for file_id, success in entries
            if not success and files[file_id].status == MocFileStatus.PENDING
        ]
        if discarded:
            obsolete += [file.file_url for file in discarded]
            MocFile.objects.filter(pk__in=[file.pk for file in discarded]).delete()

        thumbnail_key: str | None = None
        for file in to_publish:
            checked = verified[file.pk]
            if file.file_type == MocFileType.THUMBNAIL:
                obsolete += _remove_ready_thumbnails(moc)
                thumbnail_key = file.file_url
            file.status = MocFileStatus.READY
            file.file_size = checked.size
            file.mime_type = checked.mime_type
            file.save(update_fields=["status", "file_size", "mime_type"])
            if file.file_type == MocFileType.PARTS_LIST:
                _create_pending_parts_list(moc=moc, file=file)

        if thumbnail_key is None and not moc.thumbnail_url:
            has_thumbnail = MocFile.objects.filter(
                moc_id=moc.pk, file_type=MocFileType.THUMBNAIL, status=MocFileStatus.READY
            ).exists()
            first_image = next((f for f in to_publish if f.file_type == MocFileType.GALLERY_IMAGE), None)
            if not has_thumbnail and first_image is not None:
                first_image.file_type = MocFileType.THUMBNAIL
                first_image.save(update_fields=["file_type"])
                thumbnail_key = first_image.file_url
        if thumbnail_key is not None:
            _set_thumbnail_url(moc, thumbnail_key)

        _delete_objects_after_commit(obsolete)
        moc_touch(moc=moc)
        metrics.emit_on_commit("FilesUploaded", len(to_publish), properties={"flow": "presigned"})
    return moc


# --- M12 / M13: one file ---------------------------------------------------------------------------------------------


def moc_file_get(*, moc: Moc, file_id: UUID | str, include_pending: bool) -> MocFile:
    """A file of this MOC, or 404 `File not found` (a file of another MOC is not found either)."""
    files = MocFile.objects.filter(moc_id=moc.pk, pk=file_id)
    if not include_pending:
        files = files.filter(status=MocFileStatus.READY)
    file = files.first()
    if file is None:
        raise NotFound(MSG_FILE_NOT_FOUND)
    return file


def moc_file_delete(*, moc: Moc, file_id: UUID | str) -> None:
    """M12: delete a file (pending ones too). Its parts lists keep existing with `file_id` null (the FK does it),
    the MOC's `thumbnailUrl` is cleared if it pointed at the file, and the object goes after commit."""
    with transaction.atomic():
        moc = _locked(moc)
        file = moc_file_get(moc=moc, file_id=file_id, include_pending=True)
        key = file.file_url
        file.delete()
        if moc.thumbnail_url and moc.thumbnail_url == key:
            _set_thumbnail_url(moc, None)
        _delete_objects_after_commit([key])
        moc_touch(moc=moc)


def moc_file_download_link(*, file: MocFile, request: HttpRequest | None = None) -> DownloadLink:
    """M13: a presigned GET that downloads under the original name with the stored type (the media URL, with no
    expiry, on the file system)."""
    url, expires_in = storage.download_url(
        file.file_url, filename=file.original_filename, mime_type=file.mime_type, request=request
    )
    expires_at = timezone.now() + dt.timedelta(seconds=expires_in) if expires_in is not None else None
    return DownloadLink(url=url, expires_in=expires_in, expires_at=expires_at)


# --- Sweeper ---------------------------------------------------------------------------------------------------------


def files_delete_stale_pending(*, older_than: dt.datetime) -> int:
    """Delete `pending` files created before `older_than` (never finalized), with their objects after commit;
    bump each owner's mocs family. Returns how many rows went. Safe to re-run."""
    with transaction.atomic():
        stale = MocFile.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=MocFileStatus.PENDING, created_at__lt=older_than
        )
        rows = list(stale.values_list("pk", "file_url", "moc__user_id"))
        if not rows:
            return 0
        MocFile.objects.filter(pk__in=[pk for pk, _, _ in rows], status=MocFileStatus.PENDING).delete()
        _delete_objects_after_commit(key for _, key, _ in rows)
        for user_id in {user_id for _, _, user_id in rows}:
            response_cache.bump("mocs", user_id)
    return len(rows)


def files_referenced_keys(keys: Sequence[str]) -> set[str]:
    """Which of these `mocs/` keys a row references, a file row of any status or a MOC's thumbnail: the question the
    orphan sweep asks of each listing page (SPEC §7.3), answered in one query.

    Keys are `mocs/{uid}/{mocId}/{fileId}.{ext}` (§5.3), so rows are found by primary key (`file_url` has no index);
    a key of any other shape is looked up by value."""
    file_ids: set[UUID] = set()
    moc_ids: set[UUID] = set()
    other: list[str] = []
    for key in keys:
        ids = _ids_in_key(key)
        if ids is None:
            other.append(key)
        else:
            moc_ids.add(ids[0])
            file_ids.add(ids[1])
    files = MocFile.objects.filter(Q(pk__in=file_ids) | Q(file_url__in=other)).values_list("file_url", flat=True)
    thumbnails = Moc.objects.filter(Q(pk__in=moc_ids) | Q(thumbnail_url__in=other)).values_list(
        "thumbnail_url", flat=True
    )
    return set(files.union(thumbnails)) & set(keys)


def _ids_in_key(key: str) -> tuple[UUID, UUID] | None:
    """(mocId, fileId) of a `mocs/{uid}/{mocId}/{fileId}.{ext}` key, or None for a key of another shape."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "mocs":
        return None
    try:
        return UUID(parts[2]), UUID(parts[3].partition(".")[0])
    except ValueError:
        return None
