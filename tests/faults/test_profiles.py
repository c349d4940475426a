"""The profile routes under outages (SPEC §4.5, §5.3): Cognito (moto) stopped and paused, and S3 stopped and paused
under the avatar routes.

- Cognito out: U1 serves the profile row and logs a warning (not cached, so Cognito's answer is back as soon as
  Cognito is); U2 is 503 `Identity service unavailable` and changes nothing; every call gives up within a bounded
  time. A stopped moto loses its pools, so the test makes its pool again once moto is back.
- S3 out: U3 is the 500 envelope and the row is untouched; U4 clears the row (the object's deletion runs after
  commit and is logged when it fails); what the outage leaves in the bucket, the orphan sweep removes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
from django.utils import timezone

from lego_api.core import orphans
from profiles import identity
from profiles.keys import avatar_key
from profiles.models import Profile
from tests.faults.probes import OUTAGES, assert_internal_error, outage, wait_until_settled
from tests.faults.test_s3 import short_storage_timeouts, worst_case_seconds  # noqa: F401 - a fixture
from tests.helpers import assert_error, stored_keys
from tests.profiles.cognito import CognitoPool
from tests.profiles.uploads import image_file

pytestmark = pytest.mark.django_db(transaction=True)

MOTO_ANSWER_SECONDS = 1  # what a request takes when Cognito answers at once


def test_cognito_calls_fail_within_a_bounded_time():
    """botocore's defaults (60 s reads, several attempts) would hold U1 for minutes while Cognito hangs."""
    assert worst_case_seconds(identity._client()) <= 6


@pytest.mark.parametrize("kind", OUTAGES)
def test_cognito_out_serves_the_row_refuses_renames_and_recovers(auth_client, owner, services, settings, kind, caplog):
    pool = CognitoPool.create(settings)
    pool.add_user(owner, name="Cognito Name", email="jane@example.com")
    api = auth_client(owner, name="Mirrored Name", email="token@example.com")

    with outage(services.cognito, kind):
        began = time.monotonic()
        read = api.get("/api/users/me")
        rename = api.patch("/api/users/me", {"name": "New Name"}, format="json")
        elapsed = time.monotonic() - began

    assert read.status_code == 200, read.content
    assert (read.json()["data"]["name"], read.json()["data"]["email"]) == ("Mirrored Name", "token@example.com")
    assert "identity provider unavailable; profile row served" in caplog.messages
    assert_error(rename, 503, "SERVICE_UNAVAILABLE", "Identity service unavailable")
    assert Profile.objects.get(user_id=owner).name == "Mirrored Name"
    assert elapsed < 2 * worst_case_seconds(identity._client()) + MOTO_ANSWER_SECONDS

    if kind == "stopped":  # moto keeps its pools in memory: a restarted one has none
        pool = CognitoPool.create(settings)
        pool.add_user(owner, name="Cognito Name", email="jane@example.com")
    after = api.get("/api/users/me")
    # A paused Cognito runs, once resumed, the rename the client gave up on: Cognito may hold either name then.
    names = {"Cognito Name"} if kind == "stopped" else {"Cognito Name", "New Name"}
    assert after["X-Cache"] == "MISS" and after.json()["data"]["name"] in names
    renamed = api.patch("/api/users/me", {"name": "New Name"}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert pool.attributes(owner)["name"] == "New Name"
    assert Profile.objects.get(user_id=owner).name == "New Name"


def avatar_folder(user_id: str) -> str:
    return avatar_key(user_id).rsplit("/", 1)[0] + "/"


def sweep_avatars(user_id: str) -> None:
    """The sweeper's orphan step once the grace period has passed, over this user's avatar folder only."""
    later = timezone.now() + orphans.UNREFERENCED_GRACE + orphans.timedelta(minutes=1)
    orphans.unreferenced_objects_sweep(now=later, within=avatar_folder(user_id))


@pytest.fixture
def storage_outage(services, settings, short_storage_timeouts):  # noqa: F811
    """`with storage_outage(kind, owner):` S3 out for the block, then back and done with what it was sent while
    paused (a PUT the client gave up on may still complete then); profiles from the row (no Cognito)."""
    settings.COGNITO_USER_POOL_ID = None

    @contextlib.contextmanager
    def make(kind: str, owner: str) -> Iterator[None]:
        with outage(services.s3, kind):
            yield
        wait_until_settled(services.s3, owner, prefix=avatar_folder(owner))

    return make


def upload_avatar(api):
    return api.post("/api/users/me/avatar", {"avatar": image_file()}, format="multipart")


@pytest.mark.parametrize("kind", OUTAGES)
def test_avatar_upload_fails_cleanly_while_storage_is_out_and_works_after(api, owner, kind, storage_outage):
    with storage_outage(kind, owner):
        during = upload_avatar(api)
    assert_internal_error(during)
    assert Profile.objects.get(user_id=owner).avatar_url is None

    after = upload_avatar(api)
    assert after.status_code == 200, after.content
    sweep_avatars(owner)
    assert stored_keys(avatar_folder(owner)) == [Profile.objects.get(user_id=owner).avatar_url]


@pytest.mark.parametrize("kind", OUTAGES)
def test_avatar_delete_while_storage_is_out_clears_the_row_and_the_sweep_takes_the_object(
    api, owner, kind, storage_outage
):
    assert upload_avatar(api).status_code == 200
    with storage_outage(kind, owner):
        during = api.delete("/api/users/me/avatar")
    assert during.status_code == 200, during.content
    assert Profile.objects.get(user_id=owner).avatar_url is None

    sweep_avatars(owner)
    assert stored_keys(avatar_folder(owner)) == []
