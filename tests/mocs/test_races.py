"""Races against real PostgreSQL (issue #7, SPEC §3.0, §4.2 M11): parallel requests released together by a barrier,
each thread with its own API client and database connection, held at the contested lock until all of them wait on it.

A unique constraint hit by a race is 409 with its message, never 500; per-MOC caps and the single thumbnail hold under
parallel uploads; a new user's parallel first requests all succeed; writes racing a MOC delete answer 201 or 404 and
leave nothing behind; a rename does not undo a concurrent upload's thumbnail."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from mocs.models import Moc, MocFile, MocFileStatus, MocFileType, MocPartsList
from profiles.models import Profile
from tests.factories import MocFactory, MocFileFactory, MocPartsListFactory
from tests.helpers import assert_error, moc_prefix, stored_keys, user_prefix
from tests.samples import CSV, PDF, image_bytes, moc_fields

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 16
TITLE = "Coffee Truck"
DUPLICATE_TITLE = "A MOC with this title already exists"
PNG = image_bytes("PNG")


def race(
    clients: list[APIClient], send: Callable[[int, APIClient], object], *, hold: Callable[[], object] | None = None
) -> list:
    """Run `send(i, client)` in one thread per client, all released together by a barrier; the responses in order.

    `hold`, when given, runs first in a transaction of its own (another connection) that takes a lock the requests
    need: a conflicting uncommitted row, or the MOC row. It is rolled back only once every request waits on a lock,
    so that all of them are inside the critical section together rather than one after another. Every thread closes
    its own database connections, so the test database can be flushed afterwards."""
    barrier = threading.Barrier(len(clients))
    responses: list = [None] * len(clients)
    errors: list[BaseException] = []
    held, release = threading.Event(), threading.Event()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            responses[index] = send(index, clients[index])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    def holder() -> None:
        try:
            with transaction.atomic():
                hold()
                held.set()
                release.wait(timeout=120)
                transaction.set_rollback(True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            held.set()
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(clients))]
    holding = threading.Thread(target=holder) if hold is not None else None
    if holding is not None:
        holding.start()
        held.wait(timeout=60)
    for thread in threads:
        thread.start()
    all_waited = holding is None or _wait_for_lock_waiters(len(clients))
    release.set()
    for thread in [*threads, *([holding] if holding else [])]:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert not errors, errors
    assert all_waited, "the requests never all waited on the held lock"
    return responses


def _wait_for_lock_waiters(count: int, timeout: float = 60) -> bool:
    """Poll until `count` backends of the test database wait on a lock (the requests queued behind the holder)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return True
        time.sleep(0.02)
    return False


def clients_of(token: str) -> list[APIClient]:
    """THREADS API clients sending one Bearer token; a 500 comes back as a response, not an exception."""
    made = []
    for _ in range(THREADS):
        api = APIClient(raise_request_exception=False)
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        made.append(api)
    return made


@pytest.fixture
def clients(token_for, owner) -> list[APIClient]:
    """THREADS clients of the owner (whose profile exists already, so only the race under test happens)."""
    made = clients_of(token_for(owner))
    assert made[0].get("/api/mocs").status_code == 200
    return made


def title_held(user_id: str) -> Callable[[], object]:
    """A holder for `race`: an uncommitted MOC of the user with the contested title (the requests' pre-checks miss
    it, and their writes wait on the unique index)."""
    return lambda: MocFactory(user_id=user_id, title=TITLE)


def row_locked(moc: Moc) -> Callable[[], object]:
    """A holder for `race`: the MOC row locked `FOR UPDATE`, as a concurrent upload to the MOC holds it."""
    return lambda: list(Moc.objects.select_for_update().filter(pk=moc.pk))


def statuses(responses) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def assert_one_winner(responses, *, success: int, message: str):
    """Exactly one `success`, every other answer 409 CONFLICT `message` in the error envelope, no 5xx."""
    counts = statuses(responses)
    assert not [code for code in counts if code >= 500], counts
    assert counts == Counter({success: 1, 409: len(responses) - 1}), counts
    for response in responses:
        if response.status_code == 409:
            error = assert_error(response, 409, "CONFLICT", message)
            assert "details" not in error
            assert response.json()["requestId"]
    return next(response for response in responses if response.status_code == success)


def part(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- Unique title: M2, M7, M8, M5 ---------------------------------------------------------------------------------------


def test_parallel_creates_with_one_title_give_one_201_and_409s(clients, owner):
    responses = race(
        clients, lambda _, api: api.post("/api/mocs", moc_fields(TITLE), format="json"), hold=title_held(owner)
    )

    winner = assert_one_winner(responses, success=201, message=DUPLICATE_TITLE)
    assert list(Moc.objects.filter(user_id=owner).values_list("pk", flat=True)) == [
        uuid.UUID(winner.json()["data"]["id"])
    ]


def test_parallel_creates_with_files_and_one_title_give_one_201_and_409s(clients, owner):
    def send(index: int, api: APIClient):
        data = {**moc_fields(TITLE), "instructionsFile": [part(f"truck-{index}.pdf", PDF, "application/pdf")]}
        return api.post("/api/mocs/with-files", data, format="multipart")

    responses = race(clients, send, hold=title_held(owner))

    winner = assert_one_winner(responses, success=201, message=DUPLICATE_TITLE)
    moc = Moc.objects.get(user_id=owner)
    assert str(moc.pk) == winner.json()["data"]["id"]
    files = list(MocFile.objects.filter(moc__user_id=owner))
    assert len(files) == 1
    assert stored_keys(user_prefix(owner)) == [files[0].file_url]  # the losers wrote no object


def test_parallel_initializes_with_one_title_give_one_201_and_409s(clients, owner):
    declared = [{"filename": "truck.pdf", "fileType": "instruction", "mimeType": "application/pdf", "size": len(PDF)}]
    responses = race(
        clients,
        lambda _, api: api.post(
            "/api/mocs/with-files/initialize", {**moc_fields(TITLE), "files": declared}, format="json"
        ),
        hold=title_held(owner),
    )

    winner = assert_one_winner(responses, success=201, message=DUPLICATE_TITLE)
    moc = Moc.objects.get(user_id=owner)
    assert str(moc.pk) == winner.json()["data"]["mocId"]
    assert MocFile.objects.filter(moc__user_id=owner, status=MocFileStatus.PENDING).count() == 1


@pytest.mark.parametrize("method", ["patch", "put"])
def test_parallel_renames_to_one_title_give_one_200_and_409s(clients, owner, method):
    mocs = [MocFactory(user_id=owner) for _ in clients]

    def send(index: int, api: APIClient):
        return getattr(api, method)(f"/api/mocs/{mocs[index].id}", {"title": TITLE}, format="json")

    responses = race(clients, send, hold=title_held(owner))

    winner = assert_one_winner(responses, success=200, message=DUPLICATE_TITLE)
    assert list(Moc.objects.filter(user_id=owner, title=TITLE).values_list("pk", flat=True)) == [
        uuid.UUID(winner.json()["data"]["id"])
    ]
    titles = {moc.pk: moc.title for moc in mocs}
    for moc in Moc.objects.filter(user_id=owner).exclude(title=TITLE):
        assert moc.title == titles[moc.pk]  # the losers kept their titles


# --- Profile mirror ------------------------------------------------------------------------------------------------


def test_parallel_first_requests_of_a_new_user_all_succeed(token_for):
    user_id = f"new-{uuid.uuid4().hex[:12]}"
    clients = clients_of(token_for(user_id, email="new@example.com", name="New Builder"))

    responses = race(clients, lambda _, api: api.get("/api/mocs"), hold=lambda: Profile.objects.create(user_id=user_id))

    assert statuses(responses) == Counter({200: THREADS})
    profile = Profile.objects.get(user_id=user_id)
    assert (profile.email, profile.name) == ("new@example.com", "New Builder")


def test_parallel_first_writes_of_a_new_user_give_one_201_and_409s(token_for):
    """The profile mirror and the title constraint race in the same requests."""
    user_id = f"new-{uuid.uuid4().hex[:12]}"
    clients = clients_of(token_for(user_id))

    responses = race(
        clients, lambda _, api: api.post("/api/mocs", moc_fields(TITLE), format="json"), hold=title_held(user_id)
    )

    assert_one_winner(responses, success=201, message=DUPLICATE_TITLE)
    assert Profile.objects.filter(user_id=user_id).count() == 1
    assert Moc.objects.filter(user_id=user_id).count() == 1


# --- Per-MOC caps and the thumbnail under the MOC row lock (M11, M17, M18, M20) --------------------------------------


def test_parallel_uploads_near_the_instruction_cap_stop_at_10(clients, owner):
    moc = MocFactory(user_id=owner)
    MocFileFactory.create_batch(8, moc=moc)
    uploaders = clients[:6]

    def send(index: int, api: APIClient):
        data = {"file": part(f"step-{index}.pdf", PDF, "application/pdf"), "fileType": "instruction"}
        return api.post(f"/api/mocs/{moc.id}/files", data, format="multipart")

    responses = race(uploaders, send, hold=row_locked(moc))

    counts = statuses(responses)
    assert counts == Counter({201: 2, 409: 4}), counts
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT", "MOC already has 10 instruction files")
    assert MocFile.objects.filter(moc=moc, file_type=MocFileType.INSTRUCTION).count() == 10
    won = sorted(MocFile.objects.get(pk=r.json()["data"]["id"]).file_url for r in responses if r.status_code == 201)
    assert stored_keys(moc_prefix(moc)) == won  # refused uploads left no object


def test_parallel_thumbnail_uploads_leave_one_thumbnail(clients, owner):
    moc = MocFactory(user_id=owner)
    uploaders = clients[:8]

    def send(index: int, api: APIClient):
        data = {"file": part(f"cover-{index}.png", PNG), "fileType": "thumbnail"}
        return api.post(f"/api/mocs/{moc.id}/files", data, format="multipart")

    responses = race(uploaders, send, hold=row_locked(moc))

    assert statuses(responses) == Counter({201: len(uploaders)})  # each one replaces the one before
    thumbnails = list(MocFile.objects.filter(moc=moc, file_type=MocFileType.THUMBNAIL))
    assert len(thumbnails) == 1
    moc.refresh_from_db()
    assert moc.thumbnail_url == thumbnails[0].file_url
    assert stored_keys(moc_prefix(moc)) == [thumbnails[0].file_url]


def _send_parts_list_upload(moc: Moc, route: str) -> Callable[[int, APIClient], object]:
    def send(index: int, api: APIClient):
        if route == "M17":
            data = {"file": part(f"bricks-{index}.csv", CSV, "text/csv")}
            return api.post(f"/api/mocs/{moc.id}/upload-parts-list", data, format="multipart")
        if route == "M18":
            data = {"mocId": str(moc.id), "partsListFile": part(f"bricks-{index}.csv", CSV, "text/csv")}
            return api.post("/api/mocs/upload-parts-list", data, format="multipart")
        body = {"title": f"Manual {index}", "parts": [{"partId": "3001", "quantity": 2}]}
        return api.post(f"/api/mocs/{moc.id}/parts-lists", body, format="json")

    return send


@pytest.mark.parametrize("route", ["M17", "M18", "M20"])
def test_parallel_parts_lists_near_the_cap_stop_at_10(clients, owner, route):
    moc = MocFactory(user_id=owner)
    MocPartsListFactory.create_batch(8, moc=moc)
    uploaders = clients[:6]

    responses = race(uploaders, _send_parts_list_upload(moc, route), hold=row_locked(moc))

    counts = statuses(responses)
    assert counts == Counter({201: 2, 409: 4}), counts
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT", "A MOC can have at most 10 parts lists")
    assert MocPartsList.objects.filter(moc=moc).count() == 10
    stored_files = sorted(MocFile.objects.filter(moc=moc).values_list("file_url", flat=True))
    assert stored_keys(moc_prefix(moc)) == stored_files
    moc.refresh_from_db()
    assert moc.total_piece_count == sum(
        MocPartsList.objects.filter(moc=moc).values_list("total_parts_count", flat=True)
    )


# --- A MOC deleted while files are added to it ---------------------------------------------------------------------


@pytest.mark.parametrize("route", ["M11", "M17", "M20"])
def test_uploads_racing_a_delete_answer_201_or_404_and_leave_nothing(clients, owner, route):
    """Each write either lands before the delete (which then takes it along) or finds the MOC gone (404); never an
    IntegrityError at commit, a 500, a row of a deleted MOC or an orphaned object."""
    moc = MocFactory(user_id=owner)
    uploaders = clients[:6]
    add = (
        _send_parts_list_upload(moc, route)
        if route != "M11"
        else lambda index, api: api.post(
            f"/api/mocs/{moc.id}/files",
            {"file": part(f"step-{index}.pdf", PDF, "application/pdf"), "fileType": "instruction"},
            format="multipart",
        )
    )

    def send(index: int, api: APIClient):
        return api.delete(f"/api/mocs/{moc.id}") if index == 0 else add(index, api)

    responses = race(uploaders, send, hold=row_locked(moc))

    assert responses[0].status_code == 200, responses[0].content
    counts = statuses(responses[1:])
    assert set(counts) <= {201, 404}, counts
    for response in responses[1:]:
        if response.status_code == 404:
            assert_error(response, 404, "NOT_FOUND", "MOC not found")
    assert not Moc.objects.filter(pk=moc.pk).exists()
    assert not MocFile.objects.filter(moc_id=moc.pk).exists()
    assert not MocPartsList.objects.filter(moc_id=moc.pk).exists()
    assert stored_keys(moc_prefix(moc)) == []


def test_renames_racing_thumbnail_uploads_keep_both_changes(clients, owner):
    """M5 writes only the fields it was given: a thumbnail set by a concurrent M11 is not overwritten by a stale
    copy of the row."""
    mocs = [MocFactory(user_id=owner) for _ in range(len(clients) // 2)]

    def send(index: int, api: APIClient):
        moc = mocs[index // 2]
        if index % 2:
            return api.patch(f"/api/mocs/{moc.id}", {"title": f"Renamed {moc.id}"}, format="json")
        data = {"file": part(f"cover-{index}.png", PNG), "fileType": "thumbnail"}
        return api.post(f"/api/mocs/{moc.id}/files", data, format="multipart")

    responses = race(
        clients[: 2 * len(mocs)],
        send,
        hold=lambda: list(Moc.objects.select_for_update().filter(pk__in=[moc.pk for moc in mocs])),
    )

    assert statuses(responses) == Counter({200: len(mocs), 201: len(mocs)})
    for moc in mocs:
        moc.refresh_from_db()
        assert moc.title == f"Renamed {moc.id}"
        thumbnail = MocFile.objects.get(moc=moc, file_type=MocFileType.THUMBNAIL)
        assert moc.thumbnail_url == thumbnail.file_url
