"""The Profile admin (SPEC §7.2): list columns and search, the avatar on the change page (escaped), and saves,
deletes and the remove-avatars action through the services (Cognito first, storage, cache bumps)."""

from __future__ import annotations

import pytest

from lego_api.core.cache import get_versions
from profiles.identity import ENDPOINT_VARIABLE
from profiles.keys import avatar_key
from profiles.models import Profile
from tests.helpers import stored_keys
from tests.profiles.uploads import image_file

# Writes must commit for their after-commit effects (bump, object deletion) to run, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def profile(owner) -> Profile:
    return Profile.objects.create(user_id=owner, email="jane@example.com", name="Jane")


def change_url(profile: Profile) -> str:
    return f"/admin/profiles/profile/{profile.pk}/change/"


def post_change(admin_client, profile: Profile, **fields):
    return admin_client.post(change_url(profile), {"email": profile.email or "", "name": profile.name or "", **fields})


def profile_version(user_id: str) -> int:
    return get_versions(user_id, "profile")["profile"]


def test_changelist_lists_and_searches_profiles(admin_client, profile):
    Profile.objects.create(user_id="someone-else", email="bob@example.com", name="Bob")
    listed = admin_client.get("/admin/profiles/profile/")
    assert listed.status_code == 200
    assert b"jane@example.com" in listed.content and b"bob@example.com" in listed.content
    found = admin_client.get("/admin/profiles/profile/", {"q": "Bob"})
    assert b"bob@example.com" in found.content and b"jane@example.com" not in found.content


def test_change_page_shows_the_avatar(admin_client, api, owner, without_cognito):
    assert api.post("/api/users/me/avatar", {"avatar": image_file()}, format="multipart").status_code == 200
    page = admin_client.get(change_url(Profile.objects.get(user_id=owner))).content.decode()
    assert f'alt="Avatar of {owner}"' in page
    assert avatar_key(owner) in page
    assert 'name="user_id"' not in page and 'name="avatar_url"' not in page  # read-only


def test_the_avatar_url_is_escaped(admin_client, profile):
    Profile.objects.filter(pk=profile.pk).update(avatar_url='https://img.example/a.png?"><script>alert(1)</script>')
    page = admin_client.get(change_url(profile)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&quot;&gt;&lt;script&gt;" in page


def test_a_name_saved_in_the_admin_goes_to_cognito_then_the_row(admin_client, profile, owner, cognito):
    cognito.add_user(owner, name="Jane")
    before = profile_version(owner)
    response = post_change(admin_client, profile, name="  Jane Builder ")
    assert response.status_code == 302, response.content
    assert cognito.attributes(owner)["name"] == "Jane Builder"
    assert Profile.objects.get(pk=profile.pk).name == "Jane Builder"
    assert profile_version(owner) == before + 1


def test_a_name_against_the_rule_is_a_form_error(admin_client, profile, without_cognito):
    response = post_change(admin_client, profile, name="Jane  Builder")
    assert response.status_code == 200
    assert "Only letters, digits 0-9 and single spaces are allowed." in response.content.decode()
    assert Profile.objects.get(pk=profile.pk).name == "Jane"


def test_a_rename_cognito_refuses_is_a_form_error_and_saves_nothing(admin_client, profile, owner, cognito, monkeypatch):
    cognito.add_user(owner, name="Jane")
    monkeypatch.setenv(ENDPOINT_VARIABLE, "http://127.0.0.1:9")
    response = post_change(admin_client, profile, name="Jane Builder", email="new@example.com")
    assert response.status_code == 200
    assert "Identity service unavailable" in response.content.decode()
    assert (Profile.objects.get(pk=profile.pk).name, Profile.objects.get(pk=profile.pk).email) == (
        "Jane",
        "jane@example.com",
    )


def test_an_email_change_saves_the_row_only(admin_client, profile, owner, cognito):
    before = profile_version(owner)
    assert post_change(admin_client, profile, email="new@example.com").status_code == 302
    assert Profile.objects.get(pk=profile.pk).email == "new@example.com"
    assert profile_version(owner) == before + 1


def test_delete_takes_the_avatar_object_and_bumps(admin_client, api, owner, without_cognito):
    assert api.post("/api/users/me/avatar", {"avatar": image_file()}, format="multipart").status_code == 200
    profile = Profile.objects.get(user_id=owner)
    before = profile_version(owner)

    response = admin_client.post(f"/admin/profiles/profile/{profile.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Profile.objects.filter(user_id=owner).exists()
    assert stored_keys(f"avatars/{owner}/") == []
    assert profile_version(owner) == before + 1
    assert api.get("/api/users/me").json()["data"]["id"] == owner, "the next request makes the row again"


def test_remove_avatars_action(admin_client, api, owner, without_cognito):
    assert api.post("/api/users/me/avatar", {"avatar": image_file()}, format="multipart").status_code == 200
    profile = Profile.objects.get(user_id=owner)
    response = admin_client.post(
        "/admin/profiles/profile/", {"action": "remove_avatars", "_selected_action": [str(profile.pk)]}
    )
    assert response.status_code == 302
    assert Profile.objects.get(pk=profile.pk).avatar_url is None
    assert stored_keys(f"avatars/{owner}/") == []


def test_profiles_cannot_be_added_in_the_admin(admin_client):
    assert admin_client.get("/admin/profiles/profile/add/").status_code == 403
