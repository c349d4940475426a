"""The `parse_parts_list` task's work (SPEC §5.6, §7.3): parse a list's stored file and store its parts, or record
`failed` with `errorDetails`; and the sweeper's handling of parses that got stuck."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lego_api.core import metrics, storage
from lego_api.core.runtime import runs_inline
from mocs.file_kinds import MOC_PARTS_LIST
from mocs.models import Moc, MocFile, MocPart, MocPartsList, PartsListStatus
from mocs.parsers import ParseResult, parse_parts_list
from mocs.services.mocs import moc_changed, moc_recompute_total, moc_touch
from mocs.services.parts_lists import apply_parse_result, insert_parts, max_rows
from mocs.tasks import parse_parts_list as parse_task

logger = logging.getLogger("mocs.parts_lists")

# A parse that has been `parsing` (or `pending`) this long is stuck (SPEC §7.3).
STUCK_AFTER = timedelta(minutes=15)

# File-level failures recorded by the task and the sweeper; the same `errorDetails` shape as a parse error (§5.6).
FILE_MISSING = ("FILE_MISSING", "The parts list file no longer exists")
FILE_TOO_LARGE = ("FILE_TOO_LARGE", f"File too large (max {MOC_PARTS_LIST.max_mb} MB)")
PARSE_INTERRUPTED = ("PARSE_INTERRUPTED", "The file could not be read; upload it again")
PARSE_TIMEOUT = ("PARSE_TIMEOUT", "Parsing did not finish in time; upload the file again")


def file_error_details(error: tuple[str, str], *, format: str | None = None) -> dict[str, Any]:
    """`errorDetails` for a failure that concerns the whole file rather than a record (`line` and `column` null)."""
    code, message = error
    return {
        "errors": [{"line": None, "column": None, "code": code, "message": message}],
        "errorCount": 1,
        "errorsTruncated": False,
        "format": format,
    }


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
            apply_parse_result(parts_list, result)
            insert_parts(parts_list.pk, result.parts)
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
                parse_task.delay(str(parts_list.pk))
                requeued += 1
            parts_list.updated_at = now
            parts_list.save(update_fields=["status", "error_details", "parse_started_at", "updated_at"])
            moc_changed(moc=Moc.objects.only("id", "user_id").get(pk=parts_list.moc_id), reindex=False)
    return requeued, failed
