"""The profile mirror's per-process memory (profiles.services): the `profile:seen` flag in the shared cache is read
once per user per SEEN_HERE_SECONDS in a process, not on every request; an admin delete is mirrored again at once in
its own process, and in others once their memory of the user expires."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from profiles import services
from profiles.models import Profile

pytestmark = pytest.mark.django_db

ECHO = "/api/test/echo"


def echo(client, issuer, user_id: str, **claims) -> None:
    response = client.get(ECHO, HTTP_AUTHORIZATION=f"Bearer {issuer.token(user_id, **claims)}")
    assert response.status_code == 200, response.content


def test_the_flag_is_read_once_per_window_in_a_process(client, issuer, monkeypatch):
    reads: list[str] = []
    real_get = cache.get
    monkeypatch.setattr(
        cache, "get", lambda key, *args, **kwargs: (reads.append(key), real_get(key, *args, **kwargs))[1]
    )

    echo(client, issuer, "memo-1")
    echo(client, issuer, "memo-1")
    echo(client, issuer, "memo-1")

    assert reads.count("profile:seen:memo-1") == 1  # the first request; the next two trust this process's memory
    assert Profile.objects.filter(user_id="memo-1").exists()


def test_another_process_delete_is_mirrored_again_once_the_memory_expires(client, issuer, monkeypatch):
    echo(client, issuer, "memo-2", email="m2@example.com")
    # What an admin delete in another process leaves here: the row and the shared flag gone, this memory intact.
    Profile.objects.filter(user_id="memo-2").delete()
    cache.delete("profile:seen:memo-2")

    echo(client, issuer, "memo-2", email="m2@example.com")
    assert not Profile.objects.filter(user_id="memo-2").exists()  # within the window: not yet

    monkeypatch.setattr(services, "SEEN_HERE_SECONDS", 0.0)
    services.forget_seen("memo-2")  # the window has passed
    echo(client, issuer, "memo-2", email="m2@example.com")
    assert Profile.objects.get(user_id="memo-2").email == "m2@example.com"


def test_a_delete_in_this_process_is_mirrored_again_on_the_next_request(
    client, issuer, django_capture_on_commit_callbacks
):
    echo(client, issuer, "memo-3", name="Mia")
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_delete(profile=Profile.objects.get(user_id="memo-3"))

    echo(client, issuer, "memo-3", name="Mia")
    assert Profile.objects.get(user_id="memo-3").name == "Mia"
