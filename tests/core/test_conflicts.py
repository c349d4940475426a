"""SPEC §3.0: an IntegrityError on a known constraint is 409 CONFLICT with that constraint's message, decided in one
place (`lego_api.core.errors`) from the registrations the apps make, wherever the error surfaces: in a statement,
out of a nested atomic block, at commit (deferred constraints), or raw from the driver (COPY). The races that
produce these errors through the API are in tests/mocs/test_races.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction

from lego_api.core import exceptions as api
from lego_api.core.errors import CONFLICT_MESSAGES, register_conflict, to_api_error

TABLE = "test_conflict_probe"
MESSAGE = "A probe with this code already exists"


def _project_models():
    """The models of the project's own apps (not Django's or a library's, even with a virtualenv in the tree)."""
    root = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if root in path.parents and "site-packages" not in path.parts:
            yield from config.get_models()


@pytest.mark.django_db
def test_every_unique_constraint_of_every_app_is_registered():
    """Primary keys aside, each unique constraint or unique index of the project's tables has a 409 message."""
    unique = set()
    with connection.cursor() as cursor:
        for model in _project_models():
            for name, info in connection.introspection.get_constraints(cursor, model._meta.db_table).items():
                if info["unique"] and not info["primary_key"]:
                    unique.add(name)
    assert "moc_instructions_user_title_unique" in unique
    assert sorted(unique - set(CONFLICT_MESSAGES)) == []


def test_the_mocs_constraints_answer_the_spec_messages():
    assert CONFLICT_MESSAGES["moc_instructions_user_title_unique"] == "A MOC with this title already exists"
    assert CONFLICT_MESSAGES["moc_files_one_thumbnail"] == "MOC already has a thumbnail"


def test_a_constraint_cannot_be_registered_with_a_second_message():
    register_conflict("moc_instructions_user_title_unique", "A MOC with this title already exists")  # same: fine
    with pytest.raises(ImproperlyConfigured):
        register_conflict("moc_instructions_user_title_unique", "Something else")


@contextlib.contextmanager
def probe_table(*, deferred: bool) -> Iterator[str]:
    """A table with a unique `code`, its constraint registered as a known one for the test's duration."""
    constraint = f"{TABLE}_code_unique"
    timing = " DEFERRABLE INITIALLY DEFERRED" if deferred else ""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (code text, CONSTRAINT {constraint} UNIQUE (code){timing})")
    register_conflict(constraint, MESSAGE)
    try:
        yield constraint
    finally:
        CONFLICT_MESSAGES.pop(constraint, None)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def assert_conflict(exc: BaseException) -> None:
    error = to_api_error(exc)
    assert isinstance(error, api.Conflict)
    assert (error.status_code, error.error_type, error.message) == (409, "CONFLICT", MESSAGE)


@pytest.mark.django_db(transaction=True)
def test_a_violation_reported_at_commit_maps_to_409():
    with probe_table(deferred=True):
        with pytest.raises(IntegrityError) as raised, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {TABLE} VALUES ('a'), ('a')")  # accepted until the commit
        assert_conflict(raised.value)


@pytest.mark.django_db(transaction=True)
def test_a_violation_raised_out_of_a_nested_atomic_block_maps_to_409():
    with probe_table(deferred=False):
        outer, inner = transaction.atomic(), transaction.atomic()
        with pytest.raises(IntegrityError) as raised, outer, inner, connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {TABLE} VALUES ('a'), ('a')")
        assert_conflict(raised.value)


@pytest.mark.django_db(transaction=True)
def test_a_violation_raised_by_the_driver_itself_maps_to_409():
    """COPY runs on the driver's own cursor, outside Django's error wrapping."""
    with probe_table(deferred=False):
        with pytest.raises(psycopg2.IntegrityError) as raised, connection.cursor() as cursor:
            cursor.cursor.execute(f"INSERT INTO {TABLE} VALUES ('a'), ('a')")
        assert_conflict(raised.value)


@pytest.mark.django_db(transaction=True)
def test_a_violation_of_an_unregistered_constraint_stays_a_500():
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (code text UNIQUE)")
    try:
        with pytest.raises(IntegrityError) as raised, connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {TABLE} VALUES ('a'), ('a')")
        error = to_api_error(raised.value)
        assert (error.status_code, error.error_type, error.message) == (
            500,
            "INTERNAL_ERROR",
            "An unexpected error occurred",
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
