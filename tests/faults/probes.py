"""What the fault suite does to the services and what it reads back: outages (a service `stopped`, or `paused` with
SIGSTOP, which is what a hung server or a network partition looks like), a trigger that starts one in the middle of a
request, and probes of what the bucket and the database hold afterwards (SPEC §5.3, §6.1, §7.1)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from lego_api.core import health, orphans
from mocs.models import MocFile, MocFileStatus
from tests.helpers import assert_error, stored_keys, user_prefix
from tests.samples import PDF
from tools.devstack import Service

MB = 1_048_576
OUTAGES = ["stopped", "paused"]


# --- Outages --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def outage(service: Service, kind: str) -> Iterator[None]:
    """The service `stopped` (connections refused) or `paused` (connections accepted, nothing answered) for the
    block; started again (same port and data) or resumed after it, whatever the block raised."""
    with service.stopped() if kind == "stopped" else service.paused():
        yield


def begin_outage(service: Service, kind: str) -> None:
    service.stop() if kind == "stopped" else service.pause()


def end_outage(service: Service, kind: str) -> None:
    service.start() if kind == "stopped" else service.resume()


_TCP_CLOSE_WAIT = "08"  # the state column of /proc/net/tcp


def abandoned_connections(service: Service) -> int:
    """Connections to the service whose client has hung up (TCP CLOSE_WAIT) and that it has not closed yet: a
    paused server holds one for each request a client gave up on, and runs the request when it resumes."""
    port = urlsplit(service.env["AWS_ENDPOINT_URL_S3"]).port
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                count += int(local.rsplit(":", 1)[1], 16) == port and state == _TCP_CLOSE_WAIT
    return count


def wait_until_settled(
    service: Service, owner: str, limit: float = 30.0, quiet: float = 2.0, *, prefix: str | None = None
) -> None:
    """Wait until the resumed S3 has finished the requests it was sent while paused (a PUT the client gave up on
    may still complete then), so that what the bucket holds afterwards is final; no-op once restarted.

    The client's connection closing is not the end of it: SeaweedFS's gateway hands the bytes to its filer and
    volume server inside the process, so the object can appear a moment later. So, after the abandoned connections
    are gone, the owner's listing (of its MOC objects, or of `prefix`) must also stay the same for `quiet` seconds."""

    def listing() -> set[str]:
        return set(stored_keys(prefix)) if prefix else bucket_keys(owner)

    deadline = time.monotonic() + limit
    while abandoned_connections(service):
        assert time.monotonic() < deadline, f"{service.name} still runs abandoned requests after {limit} s"
        time.sleep(0.05)
    listed, unchanged_since = listing(), time.monotonic()
    while time.monotonic() - unchanged_since < quiet:
        assert time.monotonic() < deadline, f"{service.name}'s listing still changes after {limit} s"
        time.sleep(0.1)
        now_listed = listing()
        if now_listed != listed:
            listed, unchanged_since = now_listed, time.monotonic()


class Trigger:
    """Runs `action` once, from a thread, as soon as `condition()` holds (polled); `fired` says whether it did."""

    def __init__(self, condition: Callable[[], bool], action: Callable[[], None], *, poll: float = 0.005) -> None:
        self.fired = threading.Event()
        self._stop = threading.Event()
        self._condition, self._action, self._poll = condition, action, poll
        self._thread = threading.Thread(target=self._run, name="fault-trigger", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready = self._condition()
            except Exception:  # a probe that fails is "not yet"
                ready = False
            if ready:
                self._action()
                self.fired.set()
                return
            time.sleep(self._poll)

    def __enter__(self) -> Trigger:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- The application as a warm Lambda runs it ----------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class LiveApp:
    """The project's WSGI application served by one thread on loopback, as a warm Lambda serves it: one process,
    requests one after another, one persistent database connection reused across them (`CONN_MAX_AGE` with
    `CONN_HEALTH_CHECKS`), and Django's request signals running as in production (the test client turns off the
    ones that close broken connections). `request()` answers the response, or raises if none comes within a minute."""

    def __init__(self) -> None:
        from django.core.wsgi import get_wsgi_application

        self._server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._serve, name="live-app", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        from django.db import connections

        try:
            self._server.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()  # this thread's connection: the test database is dropped at the end

    def request(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def get(self, path: str, token: str | None = None) -> requests.Response:
        return self.request("GET", path, token)

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


# --- Health ---------------------------------------------------------------------------------------------------


def fresh_health(client):
    """`GET /health` checked now, not the result memoised for 10 s (`client`: the test client or a `LiveApp`)."""
    health.reset_memo()
    return client.get("/health")


def component(response, name: str) -> dict:
    """One component of a health answer, healthy (in `data`) or unhealthy (in `error.details`)."""
    body = response.json()
    data = body["data"] if body["success"] else body["error"]["details"]
    return data["components"][name]


def health_during_and_after(client, service: Service, kind: str) -> tuple:
    """Fresh `/health` answers during the outage and after it."""
    with outage(service, kind):
        during = fresh_health(client)
    return during, fresh_health(client)


def assert_degraded_then_healthy(during, after, name: str) -> None:
    """During: 200 `degraded` with the component down (its error the exception class: refused or timed out) and the
    database up; after: `healthy`, the component up."""
    assert during.status_code == 200
    assert during.json()["data"]["status"] == "degraded"
    assert component(during, name)["status"] == "down"
    assert component(during, name)["error"]
    assert component(during, "database")["status"] == "up"
    assert after.json()["data"]["status"] == "healthy"
    assert component(after, name)["status"] == "up"


def assert_internal_error(response) -> None:
    """The SPEC §1.2 500 envelope (what an outage is to an API route), JSON whatever failed, with a request id."""
    assert response.headers["Content-Type"] == "application/json"
    assert_error(response, 500, "INTERNAL_ERROR", "An unexpected error occurred")
    assert response.json()["requestId"]


# --- Content --------------------------------------------------------------------------------------------------


def large_pdf(megabytes: int, name: str = "manual.pdf") -> SimpleUploadedFile:
    """A valid PDF padded to `megabytes` (a 12 MB one takes long enough to write for an outage to begin before the
    next file of the same request)."""
    body = PDF.removesuffix(b"%%EOF\n") + b"%" + b"0" * (megabytes * MB) + b"\n%%EOF\n"
    return SimpleUploadedFile(name, body, content_type="application/pdf")


# --- What the bucket and the database hold ------------------------------------------------------------------------


def bucket_keys(owner: str) -> set[str]:
    """Every object the bucket holds for the owner's MOCs, listed by SeaweedFS itself (not through our code)."""
    return set(stored_keys(user_prefix(owner)))


def file_rows(owner: str) -> list[MocFile]:
    return list(MocFile.objects.filter(moc__user_id=owner))


def rows_missing_objects(owner: str) -> set[str]:
    """Keys of `ready` file rows whose object is not in the bucket (a pending row's object is the client's to PUT)."""
    ready = {row.file_url for row in file_rows(owner) if row.status == MocFileStatus.READY}
    return ready - bucket_keys(owner)


def unreferenced_objects(owner: str) -> set[str]:
    """Objects in the bucket that no file row (of any status) points at."""
    return bucket_keys(owner) - {row.file_url for row in file_rows(owner)}


def referenced_keys(owner: str) -> set[str]:
    return {row.file_url for row in file_rows(owner)}


def sweep_orphans(owner: str) -> orphans.SweepResult:
    """The sweeper's orphan step as it runs once the grace period has passed (`now` moved on, no sleeping), over
    the owner's keys only: the bucket is shared by the whole test session."""
    later = timezone.now() + orphans.UNREFERENCED_GRACE + timedelta(minutes=1)
    return orphans.unreferenced_objects_sweep(now=later, within=user_prefix(owner))
