"""The asynchronous parts-list path (SPEC §5.4, §5.6, §7.3): a stored file gets a `pending` list, and
`parse_parts_list` makes it `ready` with its parts or `failed` with `errorDetails`; re-runs are harmless."""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from botocore.exceptions import ClientError
from django.test import override_settings

from lego_api.core import cache as response_cache
from lego_api.core import storage
from mocs.models import MocFile, MocFileStatus, MocFileType, MocPart, MocPartsList
from mocs.parsers import parse_parts_list
from mocs.services.parts_lists import parts_list_create_pending, parts_list_requeue
from mocs.storage_keys import moc_file_key
from mocs.tasks import parse_parts_list as parse_task
from tests.factories import MocPartFactory
from tests.helpers import s3_storage_settings
from tests.samples import SPEC_ERROR_CSV, SPEC_ERROR_DETAILS

pytestmark = pytest.mark.django_db

GOOD = b"Part,Color,Quantity,Is Spare\n3001,4,6,False\n3023,0,12,False\n3023,0,1,True\n973pr1234,72,1,False\n"
BAD = SPEC_ERROR_CSV


def stored_file(moc, content: bytes, *, name: str = "parts.csv", upload: bool = True) -> MocFile:
    """A `parts-list` file as finalize leaves it: the object in storage, the row `ready`."""
    file_id = uuid.uuid4()
    key = moc_file_key(moc.user_id, moc.id, file_id, name.rsplit(".", 1)[1])
    if upload:
        storage.save_bytes(key, content, content_type="text/csv")
    return MocFile.objects.create(
        id=file_id,
        moc=moc,
        file_type=MocFileType.PARTS_LIST,
        file_url=key,
        original_filename=name,
        mime_type="text/csv",
        file_size=len(content),
        status=MocFileStatus.READY,
    )


def pending_list(moc, file, capture, *, run: bool = True) -> MocPartsList:
    """`parts_list_create_pending`, with the queued task run after the commit (as inline mode does) or not."""
    with capture(execute=run) as callbacks:
        parts_list = parts_list_create_pending(moc=moc, file=file)
    if not run:
        assert len(callbacks) == 1
    parts_list.refresh_from_db()
    return parts_list


def test_pending_list_is_parsed_to_ready(owner, moc, django_capture_on_commit_callbacks):
    file = stored_file(moc, GOOD, name="rebrickable.csv")
    before = moc.updated_at
    version = response_cache.get_versions(owner, "mocs")["mocs"]

    parts_list = pending_list(moc, file, django_capture_on_commit_callbacks)

    assert parts_list.status == "ready"
    assert (parts_list.title, parts_list.file_id, parts_list.format) == (
        "Parts List - rebrickable.csv",
        file.id,
        "rebrickable-csv",
    )
    assert (parts_list.row_count, parts_list.total_parts_count, parts_list.unique_parts_count) == (4, 19, 3)
    assert parts_list.error_details is None
    assert parts_list.parse_started_at is not None
    parts = list(parts_list.parts.order_by("line_number"))
    assert [(p.part_id, p.color, p.quantity, p.is_spare, p.line_number) for p in parts] == [
        ("3001", "4", 6, False, 2),
        ("3023", "0", 12, False, 3),
        ("3023", "0", 1, True, 4),
        ("973pr1234", "72", 1, False, 5),
    ]
    moc.refresh_from_db()
    assert moc.total_piece_count == 19
    assert moc.updated_at > before
    assert response_cache.get_versions(owner, "mocs")["mocs"] > version


def test_pending_list_waits_for_the_task(moc, django_capture_on_commit_callbacks):
    parts_list = pending_list(moc, stored_file(moc, GOOD), django_capture_on_commit_callbacks, run=False)

    assert (parts_list.status, parts_list.parse_started_at, parts_list.format) == ("pending", None, None)
    moc.refresh_from_db()
    assert moc.total_piece_count is None


def test_bad_file_fails_with_error_details_and_no_parts(moc, django_capture_on_commit_callbacks):
    parts_list = pending_list(moc, stored_file(moc, BAD), django_capture_on_commit_callbacks)

    assert parts_list.status == "failed"
    # The synchronous routes' `details`, without `fields` (SPEC §5.6).
    assert parts_list.error_details == parse_parts_list(BAD).error_details()
    assert parts_list.error_details == SPEC_ERROR_DETAILS
    assert parts_list.format == "standard-csv"
    assert (parts_list.row_count, parts_list.total_parts_count) == (0, 0)
    assert not parts_list.parts.exists()
    moc.refresh_from_db()
    assert moc.total_piece_count is None


def test_failed_list_is_shown_by_the_api(api, moc, django_capture_on_commit_callbacks):
    parts_list = pending_list(moc, stored_file(moc, BAD), django_capture_on_commit_callbacks)

    data = api.get(f"/api/mocs/{moc.id}/parts-lists/{parts_list.id}").json()["data"]

    assert data["status"] == "failed"
    assert data["errorDetails"]["errorCount"] == 2
    assert data["errorDetails"]["errors"][0]["code"] == "MISSING_PART_ID"


def test_missing_object_fails_the_list(moc, django_capture_on_commit_callbacks):
    parts_list = pending_list(moc, stored_file(moc, GOOD, upload=False), django_capture_on_commit_callbacks)

    assert parts_list.status == "failed"
    assert parts_list.error_details == {
        "errors": [
            {
                "line": None,
                "column": None,
                "code": "FILE_MISSING",
                "message": "The parts list file no longer exists",
            }
        ],
        "errorCount": 1,
        "errorsTruncated": False,
        "format": None,
    }


def test_running_twice_stores_the_parts_once(moc, django_capture_on_commit_callbacks):
    parts_list = pending_list(moc, stored_file(moc, GOOD), django_capture_on_commit_callbacks)
    part_ids = set(parts_list.parts.values_list("id", flat=True))

    parse_task(str(parts_list.id))  # a Lambda retry of a run that had succeeded: `ready` is left alone
    parse_task(str(parts_list.id))

    parts_list.refresh_from_db()
    assert parts_list.status == "ready"
    assert set(parts_list.parts.values_list("id", flat=True)) == part_ids


def test_a_retried_run_replaces_the_parts_of_an_interrupted_one(moc, django_capture_on_commit_callbacks):
    parts_list = pending_list(moc, stored_file(moc, GOOD), django_capture_on_commit_callbacks, run=False)
    # A run that crashed after `parsing` (and, say, some stray rows) is retried by Lambda.
    MocPartsList.objects.filter(pk=parts_list.pk).update(status="parsing")
    MocPartFactory.create_batch(3, parts_list=parts_list, part_id="stray")

    with django_capture_on_commit_callbacks(execute=True):
        parse_task(str(parts_list.id))

    parts_list.refresh_from_db()
    assert parts_list.status == "ready"
    assert parts_list.parts.count() == 4
    assert not parts_list.parts.filter(part_id="stray").exists()


def test_failed_list_is_left_alone_until_requeued(moc, django_capture_on_commit_callbacks):
    file = stored_file(moc, BAD)
    parts_list = pending_list(moc, file, django_capture_on_commit_callbacks)
    parse_task(str(parts_list.id))
    parts_list.refresh_from_db()
    assert parts_list.status == "failed"

    # The admin's re-parse, after the object was replaced by a good file.
    storage.save_bytes(file.file_url, GOOD, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        parts_list_requeue(parts_list=parts_list)

    parts_list.refresh_from_db()
    assert (parts_list.status, parts_list.error_details, parts_list.row_count) == ("ready", None, 4)


def test_requeue_of_a_ready_list_reparses_it(moc, django_capture_on_commit_callbacks):
    file = stored_file(moc, GOOD)
    parts_list = pending_list(moc, file, django_capture_on_commit_callbacks)
    storage.save_bytes(file.file_url, b"Part ID,Quantity\n3001,2\n", content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=False):
        parts_list_requeue(parts_list=parts_list)
    moc.refresh_from_db()
    assert moc.total_piece_count is None  # not ready until parsed again

    with django_capture_on_commit_callbacks(execute=True):
        parse_task(str(parts_list.id))
    parts_list.refresh_from_db()
    moc.refresh_from_db()
    assert (parts_list.status, parts_list.row_count, moc.total_piece_count) == ("ready", 1, 2)
    assert list(parts_list.parts.values_list("part_id", flat=True)) == ["3001"]


def test_deleted_list_is_a_no_op(owner, moc, django_capture_on_commit_callbacks):
    ready = MocPartFactory(parts_list__moc=moc, parts_list__status="ready").parts_list
    version = response_cache.get_versions(owner, "mocs")["mocs"]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        parse_task(str(uuid.uuid4()))  # no such list: returns quietly (SPEC §7.3), touching nothing

    assert callbacks == []
    assert list(MocPartsList.objects.filter(moc=moc)) == [ready]
    assert MocPart.objects.filter(parts_list__moc=moc).count() == 1
    assert response_cache.get_versions(owner, "mocs")["mocs"] == version


class _RefusingS3(BaseHTTPRequestHandler):
    """An S3 endpoint that refuses every request (403 AccessDenied), as S3 does during a credentials hiccup."""

    def _refuse(self) -> None:
        body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = _refuse

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def refusing_s3():
    """The endpoint URL of a storage failure that botocore does not retry (so the test stays fast)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingS3)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_transient_storage_error_inline_records_failed(moc, refusing_s3, django_capture_on_commit_callbacks):
    parts_list = pending_list(moc, stored_file(moc, GOOD), django_capture_on_commit_callbacks, run=False)

    with override_settings(STORAGES=s3_storage_settings(endpoint_url=refusing_s3)):
        parse_task(str(parts_list.id))

    parts_list.refresh_from_db()
    assert parts_list.status == "failed"
    assert parts_list.error_details["errors"][0]["code"] == "PARSE_INTERRUPTED"
    assert not parts_list.parts.exists()


def test_transient_storage_error_on_lambda_is_reraised(
    moc, refusing_s3, monkeypatch, django_capture_on_commit_callbacks
):
    parts_list = pending_list(moc, stored_file(moc, GOOD), django_capture_on_commit_callbacks, run=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "lego-api-test")

    with (
        override_settings(STORAGES=s3_storage_settings(endpoint_url=refusing_s3), TASKS_EAGER=False),
        pytest.raises(ClientError, match=r"\((403|AccessDenied)\)"),
    ):
        parse_task(str(parts_list.id))

    parts_list.refresh_from_db()
    assert parts_list.status == "parsing"  # Lambda retries; the sweeper catches a list that stays here
    assert parts_list.parse_started_at is not None


def test_object_over_the_limit_fails_the_list(moc, django_capture_on_commit_callbacks):
    file = stored_file(moc, GOOD)
    # The presigned PUT URL stays valid after finalize, so the object may be replaced by something huge.
    storage.save_bytes(file.file_url, GOOD + b" " * (10 * 1_048_576), content_type="text/csv")

    parts_list = pending_list(moc, file, django_capture_on_commit_callbacks)

    assert parts_list.status == "failed"
    assert parts_list.error_details["errors"][0]["code"] == "FILE_TOO_LARGE"


def test_pending_list_counts_against_the_cap(moc, django_capture_on_commit_callbacks):
    from lego_api.core.exceptions import Conflict

    for _ in range(10):
        pending_list(moc, stored_file(moc, GOOD), django_capture_on_commit_callbacks, run=False)

    with pytest.raises(Conflict, match="at most 10 parts lists"):
        parts_list_create_pending(moc=moc, file=stored_file(moc, GOOD))


# --- The whole presigned flow (M9 -> PUT -> M10) ----------------------------------------------------------------


def test_initialize_put_finalize_parses_the_list(api, moc, django_capture_on_commit_callbacks):
    declared = api.post(
        f"/api/mocs/{moc.id}/files/initialize",
        {"files": [{"filename": "wanted.csv", "fileType": "parts-list", "mimeType": "text/csv", "size": len(GOOD)}]},
        format="json",
    )
    assert declared.status_code == 201, declared.content
    target = declared.json()["data"]["uploadUrls"][0]

    put = requests.put(target["uploadUrl"], data=GOOD, headers=target["headers"], timeout=10)
    assert put.status_code == 200, put.text

    with django_capture_on_commit_callbacks(execute=True):
        finalized = api.post(
            f"/api/mocs/{moc.id}/finalize",
            {"uploadedFiles": [{"fileId": target["fileId"], "success": True}]},
            format="json",
        )
    assert finalized.status_code == 200, finalized.content

    lists = api.get(f"/api/mocs/{moc.id}/parts-lists").json()["data"]
    assert len(lists) == 1
    assert (lists[0]["status"], lists[0]["fileId"], lists[0]["totalPartsCount"]) == ("ready", target["fileId"], 19)
    assert lists[0]["title"] == "Parts List - wanted.csv"
    assert MocPart.objects.filter(parts_list_id=lists[0]["id"]).count() == 4
    moc.refresh_from_db()
    assert moc.total_piece_count == 19
