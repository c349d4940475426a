"""Assertions and probes shared by the API tests: the error envelope, what the bucket really holds, and a real
database failure injected with a PostgreSQL trigger (no mocks of our code)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from django.conf import settings
from django.db import connection

from lego_api.core import storage
from lego_api.devstack import s3_client


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
