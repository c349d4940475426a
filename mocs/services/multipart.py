"""Multipart uploads of MOC files (SPEC §4.2 M7, M11, M17/M18, §5): create a MOC with its files, add files to a MOC,
upload and parse a parts list.

Every path writes in the one order of `lego_api.core.uploads`: all checks (and parses) first, then, in one
transaction under the MOC lock, each file's row, its parts list and last its object; a failure once an object is
written deletes it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from lego_api.core import metrics
from lego_api.core.exceptions import ApiError, Conflict, ValidationFailed
from lego_api.core.files import CheckedFile, clean_filename
from lego_api.core.uploads import (
    ObjectWrites,
    UploadFailure,
    check_file_count,
    check_part,
    check_total_size,
    content_of,
    store_each,
    undo_on_failure,
)
from mocs.file_kinds import MOC_FILE_KINDS, MOC_PARTS_LIST
from mocs.models import Moc, MocFile, MocFileType, MocPartsList
from mocs.services.caps import (
    MAX_FILES_PER_REQUEST,
    MAX_IMAGES_PER_CREATE,
    MAX_REQUEST_FILES_BYTES,
    MSG_INSTRUCTION_REQUIRED,
    MSG_TOO_MANY_IMAGES,
    check_file_caps,
    check_parts_list_room,
)
from mocs.services.files import file_row_create
from mocs.services.mocs import DUPLICATE_TITLE, moc_create, moc_lock, moc_title_taken, moc_touch
from mocs.services.parts_lists import parse_or_raise, parts_list_store_parsed

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from mocs.parsers import ParseResult

MSG_NO_FILES = "No files provided"
MSG_NONE_UPLOADED = "No files were uploaded"
MSG_REQUIRED = "This field is required."
MSG_INVALID_CHOICE = '"{value}" is not a valid choice.'

# The file fields of a create with files, each with the kind it takes (the first image is the thumbnail).
INSTRUCTIONS_FIELD = "instructionsFile"
PARTS_LISTS_FIELD = "partsLists"
IMAGES_FIELD = "images"


@dataclass(frozen=True)
class FileUpload:
    """One file part of M11 with the `fileType` value that applies to it (`fileType_{i}`, else `fileType`)."""

    upload: UploadedFile
    file_type: str | None
    type_field: str  # the text field the type came from, for error messages


@dataclass
class MultiUploadResult:
    """M11 with several files: what was stored and what failed."""

    uploaded: list[MocFile]
    failed: list[UploadFailure]

    @property
    def total(self) -> int:
        return len(self.uploaded) + len(self.failed)

    @property
    def succeeded(self) -> int:
        return len(self.uploaded)

    @property
    def failed_count(self) -> int:
        return len(self.failed)


@dataclass(frozen=True)
class PartsListUpload:
    """What M17/M18 stored: the file row, the parsed list, and the MOC with its new total."""

    file: MocFile
    parts_list: MocPartsList
    result: ParseResult
    moc: Moc


def _store(
    *,
    moc: Moc,
    file_type: str,
    upload: UploadedFile,
    checked: CheckedFile,
    writes: ObjectWrites,
    parsed: ParseResult | None = None,
    title: str | None = None,
) -> tuple[MocFile, MocPartsList | None]:
    """Store a checked upload as a ready file of the MOC: its row (a thumbnail replaces the current one), the `ready`
    list of a parsed parts list, and last its object. In the caller's transaction, under the MOC lock."""
    row = file_row_create(
        moc=moc,
        file_type=file_type,
        extension=checked.extension,
        filename=checked.filename,
        mime_type=checked.mime_type,
        size=checked.size,
    )
    parts_list = parts_list_store_parsed(moc=moc, result=parsed, file=row, title=title) if parsed is not None else None
    writes.save(row.file_url, upload.file, checked=checked)
    return row, parts_list


# --- M11: files added to a MOC ---------------------------------------------------------------------------------------


def _resolve_type(item: FileUpload, *, field: str) -> str:
    if item.file_type is None or not item.file_type.strip():
        raise ValidationFailed.on_field(field, MSG_REQUIRED)
    file_type = item.file_type.strip()
    if file_type not in MOC_FILE_KINDS:
        raise ValidationFailed.on_field(field, MSG_INVALID_CHOICE.format(value=file_type))
    return file_type


def _upload(*, moc: Moc, item: FileUpload, field: str, type_field: str, writes: ObjectWrites) -> MocFile:
    """Check, parse and store one file part of M11 under the MOC lock; raises the file's error."""
    file_type = _resolve_type(item, field=type_field)
    check_file_caps(moc=moc, adding=Counter({file_type: 1}))
    checked = check_part(MOC_FILE_KINDS[file_type], item.upload, field=field)
    parsed = parse_or_raise(content_of(item.upload), field=field) if file_type == MocFileType.PARTS_LIST else None
    metrics.emit_on_commit("FilesUploaded", 1, properties={"fileType": file_type, "bytes": checked.size})
    row, _ = _store(moc=moc, file_type=file_type, upload=item.upload, checked=checked, writes=writes, parsed=parsed)
    return row


def check_request_files(uploads: Sequence[UploadedFile]) -> None:
    """The multi-file request limits (SPEC §5.1): at most 10 files (400), at most 50 MB in total with several (413)."""
    check_file_count(uploads, max_files=MAX_FILES_PER_REQUEST)
    check_total_size(uploads, max_bytes=MAX_REQUEST_FILES_BYTES)


def moc_file_upload(*, moc: Moc, item: FileUpload) -> MocFile:
    """M11 with exactly one file part: store it, or raise its error as is (400/409/413/415, parse errors on `file`).

    The type error names `fileType`, whichever field it came from (the renderer would fold `fileType_0`)."""
    with undo_on_failure() as writes, transaction.atomic():
        moc = moc_lock(moc_id=moc.pk)
        row = _upload(moc=moc, item=item, field="file", type_field="fileType", writes=writes)
        moc_touch(moc=moc)
    return row


def moc_files_upload(*, moc: Moc, items: Sequence[FileUpload]) -> MultiUploadResult:
    """M11 with several file parts: each is stored or fails on its own.

    400 `No files were uploaded` (with `details.fields.files` and `details.failed`) when none is stored.
    """
    with undo_on_failure() as writes, transaction.atomic():
        moc = moc_lock(moc_id=moc.pk)
        uploaded, failed = store_each(
            items,
            lambda item: _upload(moc=moc, item=item, field="files", type_field=item.type_field, writes=writes),
            writes=writes,
            filename=lambda item: item.upload.name,
        )
        if uploaded:
            moc_touch(moc=moc)
    if not uploaded:
        raise ValidationFailed(
            MSG_NONE_UPLOADED,
            fields={"files": [f"{failure.filename}: {failure.error}" for failure in failed]},
            details={"failed": [{"filename": failure.filename, "error": failure.error} for failure in failed]},
        )
    return MultiUploadResult(uploaded=uploaded, failed=failed)


# --- M7: a MOC created with its files, all or nothing ----------------------------------------------------------------


@dataclass
class _PreparedFile:
    upload: UploadedFile
    file_type: str
    checked: CheckedFile
    parsed: ParseResult | None = None


def _prefixed(name: str, messages: Iterable[str]) -> list[str]:
    return [f"{name}: {message}" for message in messages]


def _prepare(groups: list[tuple[str, list[tuple[UploadedFile, str]]]]) -> list[_PreparedFile]:
    """Check every file and parse every parts list; all problems are reported together, each message prefixed by the
    file name under its field, all 400 (size and type too: the create is all or nothing)."""
    errors: dict[str, list[str]] = {}
    prepared: list[_PreparedFile] = []
    for field_name, uploads in groups:
        for upload, file_type in uploads:
            try:
                checked = check_part(MOC_FILE_KINDS[file_type], upload, field=field_name)
                parsed = (
                    parse_or_raise(content_of(upload), field=field_name)
                    if file_type == MocFileType.PARTS_LIST
                    else None
                )
            except ApiError as exc:
                messages = (exc.details.get("fields") or {}).get(field_name) or [exc.message]
                errors.setdefault(field_name, []).extend(_prefixed(clean_filename(upload.name), messages))
                continue
            prepared.append(_PreparedFile(upload=upload, file_type=file_type, checked=checked, parsed=parsed))
    if errors:
        raise ValidationFailed(fields=errors)
    return prepared


def moc_create_with_files(
    *,
    user_id: str,
    data: dict[str, Any],
    instructions: Sequence[UploadedFile],
    parts_lists: Sequence[UploadedFile],
    images: Sequence[UploadedFile],
) -> Moc:
    """M7: title (409), file presence and counts (400, 413 over 50 MB in total), every file's checks and every parts
    list's parse, then the MOC, its files, its thumbnail and its ready parts lists in one transaction. On any failure
    nothing is kept."""
    if moc_title_taken(user_id=user_id, title=data["title"]):
        raise Conflict(DUPLICATE_TITLE)

    everything = [*instructions, *parts_lists, *images]
    check_file_count(everything, max_files=MAX_FILES_PER_REQUEST)
    count_errors: dict[str, list[str]] = {}
    if not instructions:
        count_errors[INSTRUCTIONS_FIELD] = [MSG_INSTRUCTION_REQUIRED]
    if len(images) > MAX_IMAGES_PER_CREATE:
        count_errors[IMAGES_FIELD] = [MSG_TOO_MANY_IMAGES]
    if count_errors:
        raise ValidationFailed(fields=count_errors)
    check_total_size(everything, max_bytes=MAX_REQUEST_FILES_BYTES)

    prepared = _prepare(
        [
            (INSTRUCTIONS_FIELD, [(upload, MocFileType.INSTRUCTION) for upload in instructions]),
            (PARTS_LISTS_FIELD, [(upload, MocFileType.PARTS_LIST) for upload in parts_lists]),
            (
                IMAGES_FIELD,
                [
                    (upload, MocFileType.THUMBNAIL if index == 0 else MocFileType.GALLERY_IMAGE)
                    for index, upload in enumerate(images)
                ],
            ),
        ]
    )

    with undo_on_failure() as writes, transaction.atomic():
        moc = moc_create(user_id=user_id, data=data)
        for item in prepared:
            _store(
                moc=moc,
                file_type=item.file_type,
                upload=item.upload,
                checked=item.checked,
                writes=writes,
                parsed=item.parsed,
            )
        metrics.emit_on_commit("FilesUploaded", len(prepared), properties={"flow": "with-files"})
    return moc


# --- M17 / M18: one parts list, parsed synchronously -----------------------------------------------------------------


def parts_list_upload(*, moc: Moc, upload: UploadedFile, field: str, title: str | None) -> PartsListUpload:
    """M17/M18: check, parse and store one parts-list file: a `parts-list` file row with its object, and the list.

    All or nothing: the 409 cap (checked early, and decisively under the MOC lock when the list is stored), the file
    checks (413/415/400) and the parse come first, so a refused file writes nothing."""
    check_parts_list_room(moc=moc)
    checked = check_part(MOC_PARTS_LIST, upload, field=field)
    result = parse_or_raise(content_of(upload), field=field)

    with undo_on_failure() as writes, transaction.atomic():
        moc = moc_lock(moc_id=moc.pk)
        file, parts_list = _store(
            moc=moc,
            file_type=MocFileType.PARTS_LIST,
            upload=upload,
            checked=checked,
            writes=writes,
            parsed=result,
            title=title,
        )
        moc_touch(moc=moc)
    return PartsListUpload(file=file, parts_list=parts_list, result=result, moc=moc)
