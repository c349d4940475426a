"""The sweeper `cleanup_stale_uploads` (SPEC §5.4 step 4, §7.3): stale pending files go with their objects, and
stuck parts lists are re-queued once, then marked failed."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from lego_api import devstack
from lego_api.core import cache as response_cache
from lego_api.core import storage
from mocs.models import MocFile, MocFileStatus, MocFileType, MocPartsList
from mocs.tasks import cleanup_stale_uploads, parse_parts_list
from tests.factories import MocFactory, MocPartsListFactory

pytestmark = pytest.mark.django_db

OWNER = "alice"
GOOD = b"Part ID,Quantity\n3001,4\n3020,2\n"


def ago(**delta) -> timezone.datetime:
    return timezone.now() - timedelta(**delta)


def object_exists(key: str) -> bool:
    s3 = devstack.s3_client(os.environ["AWS_ENDPOINT_URL_S3"])
    return s3.list_objects_v2(Bucket=settings.STORAGE_BUCKET, Prefix=key).get("KeyCount", 0) == 1


def file_with_object(moc, *, status: str, created_at, content: bytes = GOOD) -> MocFile:
    file_id = uuid.uuid4()
    key = storage.moc_file_key(moc.user_id, moc.id, file_id, "csv")
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


@pytest.fixture
def moc():
    return MocFactory(user_id=OWNER)


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


def test_pending_files_older_than_24_hours_go_with_their_objects(moc, django_capture_on_commit_callbacks):
    stale = file_with_object(moc, status=MocFileStatus.PENDING, created_at=ago(hours=25))
    fresh = file_with_object(moc, status=MocFileStatus.PENDING, created_at=ago(hours=23))
    old_ready = file_with_object(moc, status=MocFileStatus.READY, created_at=ago(days=30))
    version = response_cache.get_versions(OWNER, "mocs")["mocs"]

    sweep(django_capture_on_commit_callbacks)

    assert not MocFile.objects.filter(pk=stale.pk).exists()
    assert not object_exists(stale.file_url)
    assert set(MocFile.objects.filter(moc=moc).values_list("pk", flat=True)) == {fresh.pk, old_ready.pk}
    assert object_exists(fresh.file_url) and object_exists(old_ready.file_url)
    assert response_cache.get_versions(OWNER, "mocs")["mocs"] > version


def test_sweeping_twice_is_harmless(moc, django_capture_on_commit_callbacks):
    stale = file_with_object(moc, status=MocFileStatus.PENDING, created_at=ago(hours=48))

    sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)

    assert not MocFile.objects.filter(pk=stale.pk).exists()


# --- Stuck parts lists -------------------------------------------------------------------------------------------


def test_stuck_parsing_list_is_requeued_and_parsed(moc, django_capture_on_commit_callbacks):
    parts_list = stuck_list(moc, status="parsing", created_at=ago(minutes=20), parse_started_at=ago(minutes=20))
    version = response_cache.get_versions(OWNER, "mocs")["mocs"]

    sweep(django_capture_on_commit_callbacks)

    parts_list.refresh_from_db()
    assert (parts_list.status, parts_list.row_count, parts_list.total_parts_count) == ("ready", 2, 6)
    moc.refresh_from_db()
    assert moc.total_piece_count == 6
    assert response_cache.get_versions(OWNER, "mocs")["mocs"] > version


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
