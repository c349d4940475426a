"""Multipart uploads for every app (SPEC §1.8, §5.1-§5.3): read a request's file parts, check each against its
kind, store it, and undo the writes of an upload that fails.

**Reading.** A view that takes files parses with `FilePartsParser`, which records the order of the file parts.
`file_parts(request, names)` gives every file part in order of appearance (several files: M7, M11);
`one_file_part(request, names)` the single file of a one-file route (`file|partsListFile`, `image|file`,
`avatar|file`). A file part under a name the route does not list is 400 `Unexpected file field`. Reading parses the
whole body, so every field is read before anything is validated. `form_fields` gives the text fields.

**Writing: one order for every upload path.** Every check comes first and writes nothing. Then, in one transaction,
the rows, and last each row's object (`ObjectWrites.save`). A failure before an object write leaves nothing to
undo: the transaction takes the rows away. Once an object is written, whatever fails (a later statement, the
commit), `undo_on_failure` deletes the written objects again. So a failed upload leaves no row and no object; only
a process killed between the write and the commit leaves an object that no row names, which the orphan sweep
removes (`lego_api.core.orphans`). Objects a committed change makes obsolete go after commit
(`delete_after_commit`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.core.files.uploadhandler import FileUploadHandler
from django.db import transaction

from lego_api.core import storage
from lego_api.core.casing import to_snake
from lego_api.core.exceptions import ApiError, PayloadTooLarge, ValidationFailed
from lego_api.core.files import MB, SNIFF_BYTES, CheckedFile, FileKind, check_file, clean_filename, no_file_error
from lego_api.core.parsers import MultiPartParser
from lego_api.core.tasks import delete_storage_objects

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from rest_framework.request import Request

logger = logging.getLogger("lego_api.uploads")

MSG_UNEXPECTED_FIELD = "Unexpected file field"
MSG_ONE_FILE_ONLY = "Only one file can be uploaded"
MSG_TOO_MANY_FILES = "At most {count} files per request"
MSG_TOTAL_TOO_LARGE = "Files too large (max {mb} MB in total)"
WEBP_MIME_TYPE = "image/webp"
# S3 DeleteObjects takes 1000 keys; the deletion task's argument list is kept to that (SPEC §7.3).
DELETE_BATCH = 1000


# --- Reading the request --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilePart:
    """One file part of a multipart request: the field it came under, and the file."""

    field: str
    file: UploadedFile


class _PartOrder(FileUploadHandler):
    """Records the field name of every file part in order of appearance and passes the data on untouched:
    `request.FILES` groups files by field, which loses the order when parts of two fields are interleaved."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.fields: list[str] = []

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.fields.append(field_name)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file


class FilePartsParser(MultiPartParser):
    """The core multipart parser, also recording the order of the file parts for `file_parts`. Every view that
    takes files uses it."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        request = (parser_context or {}).get("request")
        if request is not None:
            request.upload_handlers.insert(0, _PartOrder())
        return super().parse(stream, media_type, parser_context)


def file_parts(request: Request, names: Collection[str]) -> list[FilePart]:
    """Every file part, in order of appearance; 400 `Unexpected file field` on a field not in `names`."""
    files = request.FILES
    for name in files:
        if name not in names:
            raise ValidationFailed.route_message(MSG_UNEXPECTED_FIELD, name)
    by_field = {name: list(uploads) for name, uploads in files.lists()}
    order = next((h.fields for h in request._request.upload_handlers if isinstance(h, _PartOrder)), None)
    if order is None:  # parsed without FilePartsParser: field by field
        return [FilePart(name, upload) for name, uploads in by_field.items() for upload in uploads]
    # Parts that produced no file (e.g. an empty filename) were recorded too; skip what a field has run out of.
    return [FilePart(name, by_field[name].pop(0)) for name in order if by_field.get(name)]


def one_file_part(request: Request, names: Sequence[str]) -> FilePart:
    """The one file of a one-file route, under any of `names` (`image|file`). 400 `Unexpected file field` on another
    field, `No file provided` on the first name when there is none, `Only one file can be uploaded` for several."""
    parts = file_parts(request, names)
    if not parts:
        raise no_file_error(names[0])
    if len(parts) > 1:
        raise ValidationFailed.route_message(MSG_ONE_FILE_ONLY, parts[0].field)
    return parts[0]


def form_fields(request: Request, *, lists: Collection[str] = ()) -> dict[str, Any]:
    """The text fields of a multipart body by snake_case name (SPEC §1.4), as a serializer takes them: the last value
    of each, or every value for the names in `lists` (a repeated `tags`)."""
    form = request.POST
    data: dict[str, Any] = {}
    for key in form:
        name = to_snake(key)
        data[name] = form.getlist(key) if name in lists else form.get(key)
    return data


def check_file_count(files: Sequence[UploadedFile], *, max_files: int, field: str = "nonFieldErrors") -> None:
    """A multi-file request's count (SPEC §5.1): 400 `At most {n} files per request` over `max_files`."""
    if len(files) > max_files:
        raise ValidationFailed.route_message(MSG_TOO_MANY_FILES.format(count=max_files), field)


def check_total_size(files: Sequence[UploadedFile], *, max_bytes: int, field: str = "nonFieldErrors") -> None:
    """A multi-file request's total (SPEC §5.1): 413 over `max_bytes` with several files. A single file is left to
    its kind's own limit, whose message names the real maximum."""
    if len(files) > 1 and sum(file.size or 0 for file in files) > max_bytes:
        message = MSG_TOTAL_TOO_LARGE.format(mb=max_bytes // MB)
        raise PayloadTooLarge(message, fields={field: [message]})


# --- Checking a part ------------------------------------------------------------------------------------------------


def content_of(file: UploadedFile, limit: int = -1) -> bytes:
    """The file's bytes from its start (the first `limit` of them when given), leaving it rewound."""
    file.seek(0)
    content = file.read(limit)
    file.seek(0)
    return content


def check_part(kind: FileKind, file: UploadedFile, *, field: str) -> CheckedFile:
    """The SPEC §5.2 checks of a file part against its kind, Pillow's included for images; the first failure raises
    with its message on `field`."""
    return check_file(
        kind,
        field=field,
        filename=file.name,
        declared_mime=file.content_type,
        size=file.size,
        head=content_of(file, SNIFF_BYTES),
        open_image=file.file if kind.is_image else None,  # the seekable file: in memory, or a temporary file
    )


# --- Storing, and undoing on failure --------------------------------------------------------------------------------


class ObjectWrites:
    """The objects one upload wrote, deleted again by `undo_on_failure` should the upload fail."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def save(self, key: str, data: bytes | IO[bytes], *, checked: CheckedFile) -> None:
        """Write a checked file's object, with the type and name it is served with (SPEC §5.3)."""
        self.keys.append(key)  # first: a write that fails part-way may still leave the object behind
        storage.save_bytes(key, data, content_type=checked.mime_type, filename=checked.filename)

    def save_webp(self, key: str, data: bytes) -> None:
        """Write an image the API re-encoded (SPEC §5.5), served inline as image/webp (§5.3)."""
        self.keys.append(key)
        storage.save_bytes(key, data, content_type=WEBP_MIME_TYPE)

    def undo(self, *, since: int = 0) -> None:
        """Delete what was written (from the `since`-th write on). A failure here only leaves objects for the orphan
        sweep, so it is logged, and the upload's own error is the one raised."""
        keys, self.keys = self.keys[since:], self.keys[:since]
        if not keys:
            return
        try:
            storage.delete_keys(keys)
        except Exception:
            logger.exception("could not delete the objects of a failed upload", extra={"keys": keys[:10]})


@contextlib.contextmanager
def undo_on_failure() -> Iterator[ObjectWrites]:
    """Around the whole transaction of an upload (`with undo_on_failure() as writes, transaction.atomic():`), so that
    a failing commit is caught too: every object written in the block is deleted if the block raises."""
    writes = ObjectWrites()
    try:
        yield writes
    except BaseException:
        writes.undo()
        raise


def delete_after_commit(keys: Iterable[str | None]) -> None:
    """Delete objects once the current transaction commits (`delete_storage_objects`, SPEC §5.3)."""
    unique = [key for key in dict.fromkeys(keys) if key]
    for start in range(0, len(unique), DELETE_BATCH):
        delete_storage_objects.delay(unique[start : start + DELETE_BATCH])


# --- Several files, each on its own ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadFailure:
    """A file of a multi-file request that was not stored, with its one-line error."""

    filename: str
    error: str


def error_line(exc: ApiError) -> str:
    """One line for an error in a per-file report: the message, or for a field rule `field: message`; a message that
    has a more precise first line (a parse failure's) gets it appended."""
    fields = exc.details.get("fields") or {}
    first_field, first_messages = next(iter(fields.items()), (None, []))
    first = first_messages[0] if first_messages else None
    if exc.message == ValidationFailed.default_message and first:
        return f"{first_field}: {first}"
    if first and first != exc.message:
        return f"{exc.message}: {first}"
    return exc.message


def store_each[Item, Stored](
    items: Iterable[Item],
    store: Callable[[Item], Stored],
    *,
    writes: ObjectWrites,
    filename: Callable[[Item], str | None],
) -> tuple[list[Stored], list[UploadFailure]]:
    """Store each item in a savepoint of its own (several files that succeed or fail on their own): an item whose
    `store` raises an API error (its checks, a cap) is reported, and leaves no row and no object; the others go on.
    Any other error fails the whole request. Call inside the upload's transaction, under `undo_on_failure`."""
    stored: list[Stored] = []
    failed: list[UploadFailure] = []
    for item in items:
        mark = len(writes.keys)
        try:
            with transaction.atomic():
                stored.append(store(item))
        except ApiError as exc:
            writes.undo(since=mark)
            failed.append(UploadFailure(filename=clean_filename(filename(item)), error=error_line(exc)))
    return stored, failed
