"""Parts-list services (SPEC §3.7, §3.8, §5.6; routes M17-M25): parse uploads, store parsed or manual parts in bulk,
edit and delete lists, and the work of the `parse_parts_list` task and of the sweeper's stuck-parse handling."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from lego_api.core import metrics, storage
from lego_api.core.exceptions import Conflict, NotFound, ValidationFailed
from lego_api.core.files import MOC_PARTS_LIST, SNIFF_BYTES, check_file
from lego_api.core.tasks import delete_storage_objects, runs_inline
from mocs import tasks as mocs_tasks  # a module reference: mocs.tasks imports this module too
from mocs.models import (
    Moc,
    MocFile,
    MocFileStatus,
    MocFileType,
    MocPart,
    MocPartsList,
    PartsListStatus,
)
from mocs.parsers import ParsedPart, ParseResult, parse_parts_list
from mocs.services.mocs import moc_changed, moc_lock, moc_recompute_total, moc_touch

logger = logging.getLogger("mocs.parts_lists")

MAX_PARTS_LISTS_PER_MOC = 10
TOO_MANY_LISTS = "A MOC can have at most 10 parts lists"
PARSE_FAILED = "Failed to parse parts list file"
PARTS_LIST_NOT_FOUND = "Parts list not found"
NO_SOURCE_FILE = "This parts list has no file to parse"
FORMAT_MANUAL = "manual"
DEFAULT_TITLE_PREFIX = "Parts List - "
TITLE_MAX_LENGTH = 255
# A parse that has been `parsing` (or `pending`) this long is stuck (SPEC §7.3).
STUCK_AFTER = timedelta(minutes=15)

# File-level failures recorded by the task and the sweeper; the same `errorDetails` shape as a parse error (§5.6).
FILE_MISSING = ("FILE_MISSING", "The parts list file no longer exists")
FILE_TOO_LARGE = ("FILE_TOO_LARGE", f"File too large (max {MOC_PARTS_LIST.max_mb} MB)")
PARSE_INTERRUPTED = ("PARSE_INTERRUPTED", "The file could not be read; upload it again")
PARSE_TIMEOUT = ("PARSE_TIMEOUT", "Parsing did not finish in time; upload the file again")

# Columns written by `_insert_parts`, in COPY order.
_PART_COLUMNS = (
    "id",
    "parts_list_id",
    "part_id",
    "part_name",
    "color",
    "quantity",
    "category",
    "is_spare",
    "line_number",
)
# COPY's text format: backslash, tab and line breaks are escaped, NULL is `\N`.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def max_rows() -> int:
    return int(getattr(settings, "PARTS_LIST_MAX_ROWS", 10_000))


def file_error_details(error: tuple[str, str], *, format: str | None = None) -> dict[str, Any]:
    """`errorDetails` for a failure that concerns the whole file rather than a record (`line` and `column` null)."""
    code, message = error
    return {
        "errors": [{"line": None, "column": None, "code": code, "message": message}],
        "errorCount": 1,
        "errorsTruncated": False,
        "format": format,
    }


# --- Parsing ---------------------------------------------------------------------------------------------------


def parse_or_raise(content: bytes, *, field: str) -> ParseResult:
    """Parse a parts-list file, or raise 400 `Failed to parse parts list file` with the SPEC §5.6 details."""
    result = parse_parts_list(content, max_rows=max_rows())
    if not result.ok:
        raise ValidationFailed(PARSE_FAILED, fields={field: result.field_messages()}, details=result.error_details())
    return result


# --- Lookups ---------------------------------------------------------------------------------------------------


def parts_list_get(*, moc: Moc, parts_list_id: uuid.UUID | str) -> MocPartsList:
    """A parts list of this MOC, or 404 `Parts list not found` (also when it belongs to another MOC, SPEC §1.9)."""
    parts_list = MocPartsList.objects.filter(moc_id=moc.pk, pk=parts_list_id).first()
    if parts_list is None:
        raise NotFound(PARTS_LIST_NOT_FOUND)
    parts_list.moc = moc  # the caller's instance: no second query for it
    return parts_list


def parts_lists_of(*, moc: Moc) -> list[MocPartsList]:
    """M19: the MOC's parts lists by createdAt (id breaks ties)."""
    return list(MocPartsList.objects.filter(moc_id=moc.pk).order_by("created_at", "id"))


def parts_of(*, parts_list: MocPartsList) -> QuerySet[MocPart]:
    """M22: the list's parts in file order."""
    return MocPart.objects.filter(parts_list_id=parts_list.pk).order_by("line_number", "id")


def default_title(filename: str) -> str:
    """`Parts List - {original filename}`, cut to the column's 255 characters."""
    return (DEFAULT_TITLE_PREFIX + filename)[:TITLE_MAX_LENGTH]


# --- Storing parts ---------------------------------------------------------------------------------------------


def parts_list_slots_used(*, moc: Moc) -> int:
    """Lists the MOC has, plus parts-list files still pending: each of those becomes a list on finalize (M10), so
    it holds its place under the cap of 10 (SPEC §4.2 M9, M11)."""
    lists = MocPartsList.objects.filter(moc_id=moc.pk).count()
    pending = MocFile.objects.filter(
        moc_id=moc.pk, file_type=MocFileType.PARTS_LIST, status=MocFileStatus.PENDING
    ).count()
    return lists + pending


def _check_capacity(moc: Moc) -> None:
    """409 when the MOC has no room for one more list; decisive only under `moc_lock`, which every writer of a
    MOC's lists takes first."""
    if parts_list_slots_used(moc=moc) >= MAX_PARTS_LISTS_PER_MOC:
        raise Conflict(TOO_MANY_LISTS)


def _copy_value(value: str | None) -> str:
    return "\\N" if value is None else value.translate(_COPY_ESCAPES)


def _insert_parts(parts_list_id: uuid.UUID, parts: Iterable[ParsedPart]) -> None:
    """Insert the parts with one PostgreSQL COPY.

    A 10,000-row list is the common case; COPY skips building 10,000 model instances and the per-row INSERT
    parameters, and is several times faster than bulk_create (see tests/perf/bench_parse_store.py).
    """
    list_id = parts_list_id.hex
    lines = [
        "\t".join(
            (
                uuid.uuid4().hex,
                list_id,
                _copy_value(part.part_id),
                _copy_value(part.part_name),
                _copy_value(part.color),
                str(part.quantity),
                _copy_value(part.category),
                "t" if part.is_spare else "f",
                str(part.line_number),
            )
        )
        for part in parts
    ]
    if not lines:
        return
    lines.append("")  # the final line break
    sql = f"COPY {MocPart._meta.db_table} ({', '.join(_PART_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(sql, StringIO("\n".join(lines)))


def _apply_result(parts_list: MocPartsList, result: ParseResult) -> None:
    """The counts, format and `ready` status of a successfully parsed list (SPEC §3.7)."""
    parts_list.status = PartsListStatus.READY
    parts_list.format = result.format
    parts_list.error_details = None
    metrics.emit_on_commit(
        "PartsListsParsed", 1, properties={"format": result.format, "rows": result.row_count, "status": "ready"}
    )
    parts_list.row_count = result.row_count
    parts_list.total_parts_count = result.total_parts_count
    parts_list.unique_parts_count = result.unique_parts_count


def _create_ready(
    *, moc: Moc, result: ParseResult, file: MocFile | None, title: str, fields: dict[str, Any] | None = None
) -> MocPartsList:
    moc_lock(moc_id=moc.pk)
    _check_capacity(moc)
    now = timezone.now()
    parts_list = MocPartsList(moc=moc, file=file, title=title, created_at=now, updated_at=now, **(fields or {}))
    _apply_result(parts_list, result)
    parts_list.save(force_insert=True)
    _insert_parts(parts_list.pk, result.parts)
    moc_recompute_total(moc=moc)
    return parts_list


@transaction.atomic
def parts_list_store_parsed(*, moc: Moc, result: ParseResult, file: MocFile | None, title: str | None) -> MocPartsList:
    """Store a successful parse as a `ready` list with its parts and counts, and recompute the MOC total.

    Runs inside the caller's transaction; 409 when the MOC already has 10 lists. The title defaults to
    `Parts List - {original filename}`. It does not touch the MOC (updatedAt, bump, index): the caller does, once.
    """
    if title is None:
        title = default_title(file.original_filename) if file is not None else "Parts List"
    return _create_ready(moc=moc, result=result, file=file, title=title)


@dataclass(frozen=True)
class PartsListUpload:
    """What M17/M18 stored: the file row, the parsed list, and the MOC with its new total."""

    file: MocFile
    parts_list: MocPartsList
    result: ParseResult
    moc: Moc


def parts_list_upload(*, moc: Moc, uploaded_file: UploadedFile, field: str, title: str | None) -> PartsListUpload:
    """M17/M18: check, parse and store one parts-list file: a `parts-list` file row with its object, and the list.

    All or nothing: the 409 cap, the file checks (413/415/400) and the parse come first, so a refused file stores
    nothing; should the database fail after the object was written, the object is deleted again. The decisive cap
    check is made under the MOC lock, taken before the file row is written.
    """
    _check_capacity(moc)  # early, unlocked: the answer a full MOC gets before its file is read; re-checked below

    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    checked = check_file(
        MOC_PARTS_LIST,
        field=field,
        filename=uploaded_file.name,
        declared_mime=uploaded_file.content_type,
        size=uploaded_file.size,
        head=head,
    )
    content = uploaded_file.read()
    result = parse_or_raise(content, field=field)

    file_id = uuid.uuid4()
    key = storage.moc_file_key(moc.user_id, moc.pk, file_id, checked.extension)
    written = False
    try:
        with transaction.atomic():
            moc_lock(moc_id=moc.pk)
            _check_capacity(moc)
            file = MocFile.objects.create(
                id=file_id,
                moc=moc,
                file_type=MocFileType.PARTS_LIST,
                file_url=key,
                original_filename=checked.filename,
                mime_type=checked.mime_type,
                file_size=checked.size,
                status=MocFileStatus.READY,
            )
            parts_list = parts_list_store_parsed(moc=moc, result=result, file=file, title=title)
            moc_touch(moc=moc)
            # Written last, inside the transaction: any failure before this point leaves no object behind.
            storage.save_bytes(key, content, content_type=checked.mime_type, filename=checked.filename)
            written = True
    except BaseException:
        if written:
            storage.delete_keys([key])
        raise
    return PartsListUpload(file=file, parts_list=parts_list, result=result, moc=moc)


@transaction.atomic
def parts_list_create_manual(*, moc: Moc, data: dict[str, Any], parts: list[ParsedPart]) -> MocPartsList:
    """M20: a `ready`, `manual` list with no file, from validated fields and parts (line numbers 1..n)."""
    fields = dict(data)
    title = fields.pop("title")
    result = ParseResult(FORMAT_MANUAL, parts=parts)
    parts_list = _create_ready(moc=moc, result=result, file=None, title=title, fields=fields)
    moc_changed(moc=moc)
    return parts_list


@transaction.atomic
def parts_list_update(*, parts_list: MocPartsList, data: dict[str, Any]) -> MocPartsList:
    """M23/M24: apply validated editable fields (parts rows are immutable)."""
    for name, value in data.items():
        setattr(parts_list, name, value)
    parts_list.updated_at = timezone.now()
    parts_list.save(update_fields=[*data, "updated_at"])
    moc_changed(moc=parts_list.moc, reindex=False)
    return parts_list


@transaction.atomic
def parts_list_delete(*, moc: Moc, parts_list: MocPartsList) -> None:
    """M25: delete the list (its parts cascade) and its source file row; the object goes after commit (§3.11)."""
    moc_lock(moc_id=moc.pk)
    file_keys = list(MocFile.objects.filter(pk=parts_list.file_id).values_list("file_url", flat=True))
    MocPartsList.objects.filter(pk=parts_list.pk).delete()
    if parts_list.file_id is not None:
        MocFile.objects.filter(pk=parts_list.file_id).delete()
    if file_keys:
        delete_storage_objects.delay(file_keys)
    moc_recompute_total(moc=moc)
    moc_changed(moc=moc)


# --- Asynchronous parsing (SPEC §7.3) ------------------------------------------------------------------------


@transaction.atomic
def parts_list_create_pending(*, moc: Moc, file: MocFile) -> MocPartsList:
    """A `pending` list for a verified `parts-list` file (M10); `parse_parts_list` is queued after commit.

    409 when the MOC already has 10 lists. Does not touch the MOC: the caller does.
    """
    moc_lock(moc_id=moc.pk)
    _check_capacity(moc)
    now = timezone.now()
    parts_list = MocPartsList.objects.create(
        moc=moc,
        file=file,
        title=default_title(file.original_filename),
        status=PartsListStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    mocs_tasks.parse_parts_list.delay(str(parts_list.pk))
    return parts_list


@transaction.atomic
def parts_list_requeue(*, parts_list: MocPartsList) -> None:
    """Admin "re-parse": back to `pending` and queue `parse_parts_list`; the MOC total drops the list until then."""
    if parts_list.file_id is None:
        raise ValidationFailed.route_message(NO_SOURCE_FILE)
    moc = moc_lock(moc_id=parts_list.moc_id)
    parts_list.status = PartsListStatus.PENDING
    parts_list.parse_started_at = None
    parts_list.error_details = None
    parts_list.updated_at = timezone.now()
    parts_list.save(update_fields=["status", "parse_started_at", "error_details", "updated_at"])
    moc_recompute_total(moc=moc)
    moc_changed(moc=moc)
    mocs_tasks.parse_parts_list.delay(str(parts_list.pk))


class _SourceUnusable(Exception):
    """The list's file cannot be parsed at all (gone, or too large): a deterministic failure."""

    def __init__(self, error: tuple[str, str]):
        super().__init__(error[1])
        self.error = error


def _parse_start(parts_list_id: str) -> MocPartsList | None:
    """`pending` → `parsing` with `parse_started_at`, under the row lock; None when there is nothing to do."""
    with transaction.atomic():
        parts_list = MocPartsList.objects.select_for_update().filter(pk=parts_list_id).first()
        # `ready` and `failed` are final until a re-parse sets `pending` again; `parsing` is a retried run.
        if parts_list is None or parts_list.status not in (PartsListStatus.PENDING, PartsListStatus.PARSING):
            return None
        now = timezone.now()
        parts_list.status = PartsListStatus.PARSING
        parts_list.parse_started_at = now
        parts_list.updated_at = now
        parts_list.save(update_fields=["status", "parse_started_at", "updated_at"])
        moc_changed(moc=Moc.objects.only("id", "user_id").get(pk=parts_list.moc_id), reindex=False)
    return parts_list


def _read_source(parts_list: MocPartsList) -> bytes:
    key = MocFile.objects.filter(pk=parts_list.file_id).values_list("file_url", flat=True).first()
    if key is None:
        raise _SourceUnusable(FILE_MISSING)
    limit = MOC_PARTS_LIST.max_bytes
    try:
        with storage.open_object(key) as source:
            # The presigned URL stays valid after finalize, so the object may have been replaced by anything.
            content = source.read(limit + 1)
    except FileNotFoundError:
        raise _SourceUnusable(FILE_MISSING) from None
    if len(content) > limit:
        raise _SourceUnusable(FILE_TOO_LARGE)
    return content


def _parse_finish(parts_list_id: str, *, result: ParseResult | None, failure: dict[str, Any] | None = None) -> None:
    """Store the outcome of a run, under the MOC and list locks, unless the list moved on meanwhile."""
    with transaction.atomic():
        moc_id = MocPartsList.objects.filter(pk=parts_list_id).values_list("moc_id", flat=True).first()
        moc = Moc.objects.select_for_update().filter(pk=moc_id).first() if moc_id else None
        parts_list = MocPartsList.objects.select_for_update().filter(pk=parts_list_id).first() if moc else None
        # Deleted, finished by another run, or marked failed by the sweeper: this run's outcome is stale.
        if parts_list is None or parts_list.status != PartsListStatus.PARSING:
            return
        MocPart.objects.filter(parts_list_id=parts_list.pk).delete()
        if result is not None and result.ok:
            _apply_result(parts_list, result)
            _insert_parts(parts_list.pk, result.parts)
        else:
            parts_list.status = PartsListStatus.FAILED
            parts_list.error_details = failure if failure is not None else result.error_details()
            metrics.emit_on_commit("PartsListsParsed", 1, properties={"status": "failed"})
            parts_list.format = result.format if result is not None else None
            parts_list.row_count = parts_list.total_parts_count = parts_list.unique_parts_count = 0
        parts_list.updated_at = timezone.now()
        parts_list.save(
            update_fields=[
                "status",
                "format",
                "error_details",
                "row_count",
                "total_parts_count",
                "unique_parts_count",
                "updated_at",
            ]
        )
        moc_recompute_total(moc=moc)
        if parts_list.status == PartsListStatus.READY:
            moc_touch(moc=moc)
        else:
            moc_changed(moc=moc, reindex=False)


def parts_list_parse_stored(*, parts_list_id: str) -> None:
    """The `parse_parts_list` task: parse the list's stored file and store the parts, or record `failed`.

    Idempotent: a `ready` (or `failed`) list is left alone, and a re-run deletes the parts it stored before.
    Bad content is recorded; a transient error (storage, database) is re-raised on Lambda so that Lambda retries,
    and recorded as `failed` in inline mode, where nothing would retry it.
    """
    parts_list = _parse_start(parts_list_id)
    if parts_list is None:
        return
    try:
        try:
            content = _read_source(parts_list)
        except _SourceUnusable as unusable:
            _parse_finish(parts_list_id, result=None, failure=file_error_details(unusable.error))
            return
        _parse_finish(parts_list_id, result=parse_parts_list(content, max_rows=max_rows()))
    except Exception:
        if not runs_inline():
            raise
        logger.exception("parts list parse failed", extra={"partsListId": parts_list_id})
        try:
            _parse_finish(parts_list_id, result=None, failure=file_error_details(PARSE_INTERRUPTED))
        except Exception:  # the database itself may be what failed; the sweeper catches up
            logger.exception("could not record the parse failure", extra={"partsListId": parts_list_id})


def _was_requeued(parts_list: MocPartsList) -> bool:
    """Whether the sweeper already re-queued this list once.

    No column counts attempts, so the timestamps say it: a first run starts within moments of the list's creation,
    while a re-queue (which stamps `parse_started_at`) happens only once the list is at least STUCK_AFTER old.
    """
    started = parts_list.parse_started_at
    return started is not None and started - parts_list.created_at >= STUCK_AFTER


def parts_lists_sweep_stuck(*, now: datetime | None = None) -> tuple[int, int]:
    """The sweeper's part for parts lists: lists `pending` or `parsing` for over 15 min are re-queued once, then
    marked `failed`. Owners' caches are bumped. Returns (re-queued, failed)."""
    now = now or timezone.now()
    cutoff = now - STUCK_AFTER
    stuck = MocPartsList.objects.filter(
        Q(parse_started_at__lt=cutoff) | Q(parse_started_at__isnull=True, created_at__lt=cutoff),
        status__in=[PartsListStatus.PENDING, PartsListStatus.PARSING],
    )
    requeued = failed = 0
    for parts_list_id in list(stuck.values_list("pk", flat=True)):
        with transaction.atomic():
            # skip_locked: a list a task holds right now is being worked on, not stuck. The filter is applied
            # again under the lock, since a run may have finished it in between.
            parts_list = stuck.select_for_update(skip_locked=True).filter(pk=parts_list_id).first()
            if parts_list is None:
                continue
            if _was_requeued(parts_list):
                parts_list.status = PartsListStatus.FAILED
                parts_list.error_details = file_error_details(PARSE_TIMEOUT)
                failed += 1
            else:
                parts_list.status = PartsListStatus.PENDING
                parts_list.parse_started_at = now
                mocs_tasks.parse_parts_list.delay(str(parts_list.pk))
                requeued += 1
            parts_list.updated_at = now
            parts_list.save(update_fields=["status", "error_details", "parse_started_at", "updated_at"])
            moc_changed(moc=Moc.objects.only("id", "user_id").get(pk=parts_list.moc_id), reindex=False)
    return requeued, failed
