"""Fixtures of the MOC API tests: a caller of the test's own (so bucket and index listings see only its data),
its API client and a MOC of theirs."""

from __future__ import annotations

import uuid

import pytest

from mocs.models import Moc
from tests.factories import MocFactory


@pytest.fixture
def owner() -> str:
    return f"owner-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def api(auth_client, owner):
    return auth_client(owner)


@pytest.fixture
def moc(owner) -> Moc:
    return MocFactory(user_id=owner)
