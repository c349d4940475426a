"""Parts-list services (SPEC §3.7, §3.8, §5.6; routes M19-M25): parse a file, store parsed or manual parts in bulk,
read, edit and delete lists, and queue the parse of a stored file. The upload routes (M17/M18) are in
`mocs.services.multipart`; the `parse_parts_list` task's work and the sweeper's stuck-parse handling in
`mocs.services.parsing`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from io import StringIO
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from lego_api.core import metrics
from lego_api.core.exceptions import NotFound, ValidationFailed
from lego_api.core.updates import save_changes
from lego_api.core.uploads import delete_after_commit
from mocs.models import Moc, MocFile, MocPart, MocPartsList, PartsListStatus
from mocs.parsers import ParsedPart, ParseResult, parse_parts_list
from mocs.services.caps import check_parts_list_room
from mocs.services.mocs import moc_changed, moc_lock, moc_recompute_total
from mocs.tasks import parse_parts_list as parse_task

PARSE_FAILED = "Failed to parse parts list file"
PARTS_LIST_NOT_FOUND = "Parts list not found"
NO_SOURCE_FILE = "This parts list has no file to parse"
FORMAT_MANUAL = "manual"
DEFAULT_TITLE_PREFIX = "Parts List - "
TITLE_MAX_LENGTH = 255

# Columns written by `insert_parts`, in COPY order.
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


def _copy_value(value: str | None) -> str:
    return "\\N" if value is None else value.translate(_COPY_ESCAPES)


def insert_parts(parts_list_id: uuid.UUID, parts: Iterable[ParsedPart]) -> None:
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


def apply_parse_result(parts_list: MocPartsList, result: ParseResult) -> None:
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
    check_parts_list_room(moc=moc)
    now = timezone.now()
    parts_list = MocPartsList(moc=moc, file=file, title=title, created_at=now, updated_at=now, **(fields or {}))
    apply_parse_result(parts_list, result)
    parts_list.save(force_insert=True)
    insert_parts(parts_list.pk, result.parts)
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
    save_changes(parts_list, data)
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
    delete_after_commit(file_keys)
    moc_recompute_total(moc=moc)
    moc_changed(moc=moc)


# --- Asynchronous parsing (SPEC §7.3) ------------------------------------------------------------------------


@transaction.atomic
def parts_list_create_pending(*, moc: Moc, file: MocFile) -> MocPartsList:
    """A `pending` list for a verified `parts-list` file (M10); `parse_parts_list` is queued after commit.

    409 when the MOC already has 10 lists. Does not touch the MOC: the caller does.
    """
    moc_lock(moc_id=moc.pk)
    check_parts_list_room(moc=moc)
    now = timezone.now()
    parts_list = MocPartsList.objects.create(
        moc=moc,
        file=file,
        title=default_title(file.original_filename),
        status=PartsListStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    parse_task.delay(str(parts_list.pk))
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
    parse_task.delay(str(parts_list.pk))
