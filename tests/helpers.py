"""Assertions and probes shared by the API tests: the error envelope, what the bucket really holds, and a real
database failure injected with a PostgreSQL trigger (no mocks of our code)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection

from lego_api.core import redis_breaker, storage
from lego_api.core.cache import CachedResult, Entry, cached_entry
from tools.devstack import s3_client


def assert_error(
    response, status: int, error_type: str, message: str | None = None, fields: dict | None = None
) -> dict:
    """The SPEC §1.1 error envelope with this status and type (and message / `details.fields` when given)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert body["error"]["type"] == error_type
    if message is not None:
        assert body["error"]["message"] == message
    if fields is not None:
        assert body["error"]["details"]["fields"] == fields
    return body["error"]


def stored_keys(prefix: str) -> list[str]:
    """Every object SeaweedFS holds under the key prefix, sorted."""
    client = s3_client(os.environ["AWS_ENDPOINT_URL_S3"])
    response = client.list_objects_v2(Bucket=settings.STORAGE_BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in response.get("Contents", []))


def s3_storage_settings(**options) -> dict:
    """STORAGES with these OPTIONS of the default (S3) storage changed, e.g. another `endpoint_url`: with them
    overridden, the storage and its client are made again from them."""
    default = settings.STORAGES["default"]
    return {**settings.STORAGES, "default": {**default, "OPTIONS": {**default["OPTIONS"], **options}}}


def user_prefix(user_id: str) -> str:
    return f"mocs/{storage.user_key_segment(user_id)}/"


def moc_prefix(moc) -> str:
    return f"{user_prefix(moc.user_id)}{moc.id}/"


@contextlib.contextmanager
def failing_insert(django_db_blocker, *, table: str, when: str) -> Iterator[None]:
    """A real PostgreSQL trigger that makes inserting a `table` row matching `when` (SQL on NEW) raise."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION test_failing_insert() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_failing_insert BEFORE INSERT ON {table} FOR EACH ROW WHEN ({when}) "
            "EXECUTE FUNCTION test_failing_insert()"
        )
    try:
        yield
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS test_failing_insert ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS test_failing_insert()")


class ManualClock:
    """A monotonic clock that moves only when told, installed as `lego_api.core.redis_breaker.clock`: the Redis
    circuit breaker and the cache-debt check see seconds pass without a test sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    @classmethod
    def installed(cls, monkeypatch) -> ManualClock:
        clock = cls()
        monkeypatch.setattr(redis_breaker, "clock", clock)
        return clock

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.contextmanager
def file_system_storage(media_root) -> Iterator[None]:
    """Storage as a process started without `STORAGE_BUCKET` has it: files under `media_root`, and the test URLconf
    plus the routes `lego_api.urls` mounts only then (C5 uploads and the `/media/` view)."""
    from django.test import override_settings

    from lego_api.urls import file_storage_urlpatterns
    from tests import urls as test_urls

    class FileStorageUrls:
        urlpatterns = [*test_urls.urlpatterns, *file_storage_urlpatterns]

    default = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    with override_settings(
        STORAGE_BUCKET=None,
        STORAGES={**settings.STORAGES, "default": default},
        MEDIA_ROOT=str(media_root),
        ROOT_URLCONF=FileStorageUrls,
    ):
        yield


def handed_out_urls(api, moc_id, file: dict) -> dict[str, str]:
    """Every URL the API hands out for one MOC file (a MocFile from an upload response): its `fileUrl` as uploaded
    and in M4's detail, the M13 redirect's `Location` and M13's JSON `downloadUrl`."""
    detail = api.get(f"/api/mocs/{moc_id}")
    assert detail.status_code == 200, detail.content
    [listed] = [listed for listed in detail.json()["data"]["files"] if listed["id"] == file["id"]]
    download = f"/api/mocs/{moc_id}/files/{file['id']}/download"
    redirect = api.get(download)
    assert redirect.status_code == 302, redirect.content
    as_json = api.get(download, {"format": "json"})
    assert as_json.status_code == 200, as_json.content
    return {
        "MocFile fileUrl": file["fileUrl"],
        "MocDetail fileUrl": listed["fileUrl"],
        "M13 redirect": redirect["Location"],
        "M13 json downloadUrl": as_json.json()["data"]["downloadUrl"],
    }


@contextlib.contextmanager
def xray_daemon(quiet_seconds: float) -> Iterator[socket.socket]:
    """A UDP socket on loopback standing in for the X-Ray daemon (`AWS_XRAY_DAEMON_ADDRESS`); reading it with
    `xray_documents` stops once nothing arrived for `quiet_seconds`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(quiet_seconds)
    try:
        yield sock
    finally:
        sock.close()


def xray_documents(sock: socket.socket) -> list[dict]:
    """Every segment document the SDK sent to `sock` (each datagram: a JSON header line, then the document)."""
    documents = []
    while True:
        try:
            datagram = sock.recv(65_535)
        except TimeoutError:
            return documents
        _header, _, body = datagram.decode().partition("\n")
        documents.append(json.loads(body))


def entry_result(entry: Entry) -> CachedResult:
    """A stored cache entry read back as data, as the client reads it (camelCase keys)."""
    body = json.loads(entry.head + b'"timestamp":""}')
    del body["success"], body["timestamp"]
    data = body.pop("data")
    return CachedResult(data=data, meta=body, headers=dict(entry.headers), cacheable=entry.cacheable)


def cached_result(**kwargs: Any) -> tuple[CachedResult, bool]:
    """`lego_api.core.cache.cached_entry` read back as data, for tests of the cache mechanism: `(result, hit)`."""
    entry, hit = cached_entry(**kwargs)
    return entry_result(entry), hit
