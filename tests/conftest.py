"""Shared fixtures. The real services (PostgreSQL, Redis, SeaweedFS, the OpenSearch emulator, moto, a JWKS
endpoint) are started once per test session by `tests.harness` (see tests/settings.py) and exposed here."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from lego_api.core import health, jwt_keys
from lego_api.core.cache import reset_fault_state
from tests import harness


@pytest.fixture(scope="session")
def services() -> harness.Session:
    return harness.session()


@pytest.fixture(scope="session")
def issuer(services):
    return services.issuer


@pytest.fixture(autouse=True)
def _clean_shared_state():
    """Each test starts with an empty cache, a closed Redis circuit breaker and no known cache debts, no memoised
    health result, no in-process JWKS and no in-process memory of mirrored profiles."""
    reset_fault_state()
    cache.clear()
    from profiles import services as profile_services

    profile_services.forget_seen()
    health.reset_memo()
    jwt_keys._remote_jwks.clear()
    yield


@pytest.fixture
def client() -> APIClient:
    """A bare APIClient (it replaces pytest-django's `django.test.Client`), for tests that set their own token,
    cookie or headers per request, and for public routes."""
    return APIClient()


@pytest.fixture
def anonymous(client) -> APIClient:
    """`client` named after its role where that is the point of the test: a caller with no credential (the 401s)."""
    return client


@pytest.fixture
def token_for(issuer):
    def make(user_id: str = "user-1", **claims) -> str:
        return issuer.token(user_id, **claims)

    return make


@pytest.fixture
def auth_client(token_for):
    """`auth_client("alice")` -> an APIClient sending alice's Bearer token."""

    def make(user_id: str = "user-1", **claims) -> APIClient:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user_id, **claims)}")
        return api

    return make


@pytest.fixture
def owner() -> str:
    """A caller of the test's own, so bucket and index listings see only its data (documents of earlier tests stay
    in the shared search index; another owner's never match)."""
    return f"owner-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def api(auth_client, owner) -> APIClient:
    """`owner`'s client."""
    return auth_client(owner)


@pytest.fixture
def other_user() -> str:
    """Another caller of the test's own: not `owner`, so what it reaches of `owner`'s data is a 403 or nothing."""
    return f"other-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def other_api(auth_client, other_user) -> APIClient:
    """`other_user`'s client."""
    return auth_client(other_user)


@pytest.fixture
def staff(db):
    """Django's test client signed in to the admin as a superuser (SPEC §7.2: staff are Django users)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "not-used")
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def moc(owner):
    """A MOC of `owner`'s."""
    from tests.factories import MocFactory

    return MocFactory(user_id=owner)


@pytest.fixture(params=["s3", "file system"])
def storage_mode(request, tmp_path):
    """Each storage a process can have: S3 (the stack's SeaweedFS), then the file system under a MEDIA_ROOT of the
    test's own (with the routes mounted only then)."""
    if request.param == "s3":
        yield request.param
        return
    from tests.helpers import file_system_storage

    with file_system_storage(tmp_path / "media"):
        yield request.param


@pytest.fixture
def clock(monkeypatch):
    """Time stands still for the Redis breaker and the cache-debt check (`tests.helpers.ManualClock`): the debt check
    then runs on a test's first request only, so query counts do not depend on how long the test takes."""
    from tests.helpers import ManualClock

    return ManualClock.installed(monkeypatch)
