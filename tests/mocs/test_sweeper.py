"""The sweeper `cleanup_stale_uploads` (SPEC §5.4 step 4, §7.3): stale pending files go with their objects,
stuck parts lists are re-queued once, then marked failed, and stored objects that no row references (left by storage
outages) are deleted once they are an hour old, in both storage modes."""

from __future__ import annotations

import logging
import os
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lego_api.core import cache as response_cache
from lego_api.core import orphans, storage
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType, MocPartsList
from mocs.services.files import files_referenced_keys
from mocs.storage_keys import moc_file_key
from mocs.tasks import cleanup_stale_uploads, parse_parts_list
from tests.factories import MocPartsListFactory
from tests.helpers import file_system_storage, moc_prefix
from tools import devstack

pytestmark = pytest.mark.django_db

GOOD = b"Part ID,Quantity\n3001,4\n3020,2\n"


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def object_exists(key: str) -> bool:
    s3 = devstack.s3_client(os.environ["AWS_ENDPOINT_URL_S3"])
    return s3.list_objects_v2(Bucket=settings.STORAGE_BUCKET, Prefix=key).get("KeyCount", 0) == 1


def file_with_object(moc, *, status: str, created_at, content: bytes = GOOD) -> MocFile:
    file_id = uuid.uuid4()
    key = moc_file_key(moc.user_id, moc.id, file_id, "csv")
    storage.save_bytes(key, content, content_type="text/csv")
    return MocFile.objects.create(
        id=file_id,
        moc=moc,
        file_type=MocFileType.PARTS_LIST,
        file_url=key,
        original_filename="parts.csv",
        mime_type="text/csv",
        file_size=len(content),
        status=status,
        created_at=created_at,
    )


def sweep(capture, *, run_tasks: bool = True) -> int:
    """Run the sweeper; what it queues after commit (object deletions, re-queued parses) runs too, or not.
    Returns how many parses it queued."""
    with capture(execute=run_tasks) as callbacks:
        cleanup_stale_uploads()
    # Task.delay() queues functools.partial(task.dispatch, ...).
    return sum(getattr(getattr(c, "func", None), "__self__", None) is parse_parts_list for c in callbacks)


def stuck_list(moc, *, status: str, created_at, parse_started_at=None, content: bytes = GOOD) -> MocPartsList:
    file = file_with_object(moc, status=MocFileStatus.READY, created_at=created_at, content=content)
    return MocPartsListFactory(
        moc=moc,
        file=file,
        status=status,
        format=None,
        created_at=created_at,
        updated_at=created_at,
        parse_started_at=parse_started_at,
    )


# --- Stale pending files -----------------------------------------------------------------------------------------


def test_pending_files_older_than_24_hours_go_with_their_objects(owner, moc, django_capture_on_commit_callbacks):
    stale = file_with_object(moc, status=MocFileStatus.PENDING, created_at=ago(hours=25))
    fresh = file_with_object(moc, status=MocFileStatus.PENDING, created_at=ago(hours=23))
    old_ready = file_with_object(moc, status=MocFileStatus.READY, created_at=ago(days=30))
    version = response_cache.get_versions(owner, "mocs")["mocs"]

    sweep(django_capture_on_commit_callbacks)

    assert not MocFile.objects.filter(pk=stale.pk).exists()
    assert not object_exists(stale.file_url)
    assert set(MocFile.objects.filter(moc=moc).values_list("pk", flat=True)) == {fresh.pk, old_ready.pk}
    assert object_exists(fresh.file_url) and object_exists(old_ready.file_url)
    assert response_cache.get_versions(owner, "mocs")["mocs"] > version


def test_sweeping_twice_is_harmless(moc, django_capture_on_commit_callbacks):
    stale = file_with_object(moc, status=MocFileStatus.PENDING, created_at=ago(hours=48))

    sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)

    assert not MocFile.objects.filter(pk=stale.pk).exists()


# --- Stuck parts lists -------------------------------------------------------------------------------------------


def test_stuck_parsing_list_is_requeued_and_parsed(owner, moc, django_capture_on_commit_callbacks):
    parts_list = stuck_list(moc, status="parsing", created_at=ago(minutes=20), parse_started_at=ago(minutes=20))
    version = response_cache.get_versions(owner, "mocs")["mocs"]

    sweep(django_capture_on_commit_callbacks)

    parts_list.refresh_from_db()
    assert (parts_list.status, parts_list.row_count, parts_list.total_parts_count) == ("ready", 2, 6)
    moc.refresh_from_db()
    assert moc.total_piece_count == 6
    assert response_cache.get_versions(owner, "mocs")["mocs"] > version


def test_stuck_list_is_requeued_once_then_failed(moc, django_capture_on_commit_callbacks):
    parts_list = stuck_list(moc, status="parsing", created_at=ago(minutes=20), parse_started_at=ago(minutes=20))

    # First sweep: re-queued. The re-queued run never gets going (the queued task is not run here).
    assert sweep(django_capture_on_commit_callbacks, run_tasks=False) == 1
    parts_list.refresh_from_db()
    assert parts_list.status == "pending"
    assert parts_list.error_details is None

    # A second sweep while the re-queue is still recent leaves it alone.
    assert sweep(django_capture_on_commit_callbacks, run_tasks=False) == 0
    parts_list.refresh_from_db()
    assert parts_list.status == "pending"

    # 20 minutes later it is still not done: failed, with no third attempt.
    MocPartsList.objects.filter(pk=parts_list.pk).update(
        created_at=parts_list.created_at - timedelta(minutes=20),
        parse_started_at=parts_list.parse_started_at - timedelta(minutes=20),
    )
    assert sweep(django_capture_on_commit_callbacks) == 0
    parts_list.refresh_from_db()
    assert parts_list.status == "failed"
    assert parts_list.error_details == {
        "errors": [
            {
                "line": None,
                "column": None,
                "code": "PARSE_TIMEOUT",
                "message": "Parsing did not finish in time; upload the file again",
            }
        ],
        "errorCount": 1,
        "errorsTruncated": False,
        "format": None,
    }


def test_requeued_run_that_stalls_in_parsing_is_failed(moc, django_capture_on_commit_callbacks):
    # Re-queued 20 minutes after its creation, the second run started and has been `parsing` for 20 minutes.
    parts_list = stuck_list(moc, status="parsing", created_at=ago(minutes=45), parse_started_at=ago(minutes=20))

    sweep(django_capture_on_commit_callbacks)

    parts_list.refresh_from_db()
    assert parts_list.status == "failed"
    assert parts_list.error_details["errors"][0]["code"] == "PARSE_TIMEOUT"


def test_pending_list_never_started_is_requeued(moc, django_capture_on_commit_callbacks):
    parts_list = stuck_list(moc, status="pending", created_at=ago(minutes=30))

    sweep(django_capture_on_commit_callbacks)

    parts_list.refresh_from_db()
    assert parts_list.status == "ready"


def test_recent_and_finished_lists_are_left_alone(moc, django_capture_on_commit_callbacks):
    parsing = stuck_list(moc, status="parsing", created_at=ago(minutes=5), parse_started_at=ago(minutes=5))
    pending = stuck_list(moc, status="pending", created_at=ago(minutes=10))
    ready = stuck_list(moc, status="ready", created_at=ago(days=2), parse_started_at=ago(days=2))
    failed = stuck_list(moc, status="failed", created_at=ago(days=2), parse_started_at=ago(days=2))

    sweep(django_capture_on_commit_callbacks)

    statuses = dict(MocPartsList.objects.filter(moc=moc).values_list("pk", "status"))
    assert statuses == {parsing.pk: "parsing", pending.pk: "pending", ready.pk: "ready", failed.pk: "failed"}


# --- Unreferenced objects ----------------------------------------------------------------------------------------

# Past the grace period: every object written so far is "old" to a sweep run at this time.
LATER = timedelta(hours=1, minutes=1)


def stored_object(moc, ext: str = "pdf") -> str:
    """An object at a fresh key of `moc`'s, referenced by nothing."""
    key = moc_file_key(moc.user_id, moc.id, uuid.uuid4(), ext)
    storage.save_bytes(key, b"%PDF-1.4 bytes", content_type="application/pdf")
    return key


def keys_under(prefix: str) -> set[str]:
    """What storage holds under `prefix`, listed through Django's storage on the file system and by SeaweedFS itself
    on S3 (not through the listing under test)."""
    if storage.uses_s3():
        s3 = devstack.s3_client(os.environ["AWS_ENDPOINT_URL_S3"])
        listed = s3.list_objects_v2(Bucket=settings.STORAGE_BUCKET, Prefix=prefix)
        return {item["Key"] for item in listed.get("Contents", [])}
    root = default_storage.path("")
    found = set()
    for directory, _, names in os.walk(root):
        for name in names:
            key = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
            if key.startswith(prefix):
                found.add(key)
    return found


def sweep_moc(moc, **kwargs) -> orphans.SweepResult:
    """The orphan sweep over this MOC's keys only (the S3 bucket is shared by the whole test session)."""
    kwargs.setdefault("now", timezone.now() + LATER)
    return orphans.unreferenced_objects_sweep(within=moc_prefix(moc), **kwargs)


def backdate(key: str, hours: float) -> None:
    """Make a file-system object `hours` old (S3 sets LastModified itself; S3 tests move `now` instead)."""
    moment = time.time() - hours * 3600
    os.utime(default_storage.path(key), (moment, moment))


def test_old_unreferenced_object_is_deleted_and_referenced_ones_are_kept(moc, storage_mode, caplog):
    orphan = stored_object(moc)
    ready = file_with_object(moc, status=MocFileStatus.READY, created_at=ago(days=3))
    pending = file_with_object(moc, status=MocFileStatus.PENDING, created_at=ago(hours=2))  # presigned, not finalized

    with caplog.at_level(logging.INFO, logger="lego_api.orphans"):
        result = sweep_moc(moc)

    assert keys_under(moc_prefix(moc)) == {ready.file_url, pending.file_url}
    assert (result.listed, result.deleted, result.exhausted) == (3, 1, False)
    [record] = [r for r in caplog.records if r.getMessage() == "unreferenced objects deleted"]
    assert record.keys == [orphan]


def test_young_unreferenced_object_is_kept(moc, storage_mode):
    """An upload in flight writes its object before its row: within the grace period an object is left alone."""
    young = stored_object(moc)

    assert sweep_moc(moc, now=timezone.now()).deleted == 0
    assert keys_under(moc_prefix(moc)) == {young}

    assert sweep_moc(moc).deleted == 1  # an hour later, still with no row, it goes
    assert keys_under(moc_prefix(moc)) == set()


def test_object_referenced_only_by_a_moc_thumbnail_is_kept(moc, storage_mode):
    thumbnail = stored_object(moc, "png")
    Moc.objects.filter(pk=moc.pk).update(thumbnail_url=thumbnail)

    assert sweep_moc(moc).deleted == 0
    assert keys_under(moc_prefix(moc)) == {thumbnail}


def test_sweep_goes_through_every_page_with_one_query_a_page(moc, storage_mode):
    referenced = {file_with_object(moc, status=MocFileStatus.READY, created_at=ago(days=1)).file_url for _ in range(2)}
    for _ in range(5):
        stored_object(moc)

    with CaptureQueriesContext(connection) as queries:
        result = sweep_moc(moc, page_size=2)

    assert (result.listed, result.deleted) == (7, 5)
    assert len(queries) == 4  # 7 objects in pages of 2
    assert keys_under(moc_prefix(moc)) == referenced


def test_a_run_deletes_at_most_its_bound_and_the_next_run_continues(moc, storage_mode):
    for _ in range(5):
        stored_object(moc)

    first = sweep_moc(moc, page_size=2, max_deletions=3)
    assert (first.deleted, first.exhausted) == (3, True)
    assert len(keys_under(moc_prefix(moc))) == 2

    second = sweep_moc(moc, page_size=2, max_deletions=3)
    assert (second.deleted, second.exhausted) == (2, False)
    assert keys_under(moc_prefix(moc)) == set()


def test_sweeping_unreferenced_objects_twice_is_harmless(moc, storage_mode):
    stored_object(moc)

    assert sweep_moc(moc).deleted == 1
    assert sweep_moc(moc).deleted == 0


def test_hourly_task_deletes_old_orphans_and_nothing_outside_registered_prefixes(
    moc, tmp_path, django_capture_on_commit_callbacks
):
    """The task itself, on the file system where an object can be made two hours old: only `mocs/` is registered
    (an object under a folder no app registered, such as `unowned/`, is never touched)."""
    with file_system_storage(tmp_path / "media"):
        orphan, young = stored_object(moc), stored_object(moc)
        ready = file_with_object(moc, status=MocFileStatus.READY, created_at=ago(days=3))
        unowned = f"unowned/{moc.user_id}/object.webp"
        storage.save_bytes(unowned, b"RIFF", content_type="image/webp")
        in_progress = f"{moc_prefix(moc)}.upload-abc123"  # a write `save_bytes` has not renamed into place yet
        (tmp_path / "media" / in_progress).write_bytes(b"partial")
        for key in (orphan, ready.file_url, unowned, in_progress):
            backdate(key, hours=2)

        sweep(django_capture_on_commit_callbacks)

        assert keys_under("") == {young, ready.file_url, unowned, in_progress}


def test_referenced_keys_are_found_by_primary_key_and_by_value(moc):
    ready = file_with_object(moc, status=MocFileStatus.READY, created_at=ago(days=1))
    odd_key = f"mocs/{moc.user_id}/legacy/manual.pdf"  # not the §5.3 shape: looked up by value
    odd = file_with_object(moc, status=MocFileStatus.READY, created_at=ago(days=1))
    MocFile.objects.filter(pk=odd.pk).update(file_url=odd_key)
    unknown = moc_file_key(moc.user_id, moc.id, uuid.uuid4(), "pdf")
    hex_spelling = ready.file_url.replace(str(ready.pk), ready.pk.hex)  # same ids, not the key the row holds

    keys = [ready.file_url, odd_key, unknown, hex_spelling, "mocs/not-a-key"]
    with CaptureQueriesContext(connection) as queries:
        assert files_referenced_keys(keys) == {ready.file_url, odd_key}
    assert len(queries) == 1


def test_prefixes_must_not_overlap_and_sweeps_stay_under_them():
    with pytest.raises(ImproperlyConfigured):
        orphans.register_key_prefix("mocs/alice/", files_referenced_keys)
    with pytest.raises(ImproperlyConfigured):
        orphans.register_key_prefix("", files_referenced_keys)
    with pytest.raises(ValueError):
        orphans.unreferenced_objects_sweep(within="unowned/alice/")
    assert "mocs/" in orphans.registered_prefixes()
