"""U1 and U2 (SPEC §4.5): your own profile by your `sub` or `me`, anyone else's is 403 and counts toward the auth
limit; identity from Cognito (moto, users made with Username = sub) or, without a pool, from the profiles row; the
name rule; Cognito first, then the row."""

from __future__ import annotations

import pytest
from django.test import override_settings

from profiles.identity import ENDPOINT_VARIABLE
from profiles.models import Profile
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

NOT_YOURS = "You can only access your own profile"
ROUTES = [  # U1, U2 (PATCH and PUT), U3, U4
    ("get", "/api/users/{id}"),
    ("patch", "/api/users/{id}"),
    ("put", "/api/users/{id}"),
    ("post", "/api/users/{id}/avatar"),
    ("delete", "/api/users/{id}/avatar"),
]


def profile_of(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()["data"]


# --- Who may read ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path_id", ["sub", "me"])
def test_owner_reads_their_profile_by_sub_or_me(api, owner, cognito, path_id):
    cognito.add_user(owner, email="jane@example.com", name="Jane Builder")
    response = api.get(f"/api/users/{owner if path_id == 'sub' else 'me'}")

    profile = profile_of(response)
    row = Profile.objects.get(user_id=owner)
    assert profile == {
        "id": owner,
        "email": "jane@example.com",
        "name": "Jane Builder",
        "avatarUrl": None,
        "stats": {"mocs": 0, "images": 0, "albums": 0, "wishlistItems": 0},
        "createdAt": profile["createdAt"],
        "updatedAt": profile["updatedAt"],
    }
    assert profile["createdAt"] == row.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert response["X-Cache"] == "MISS"


def test_the_trailing_slash_is_optional(api, owner, without_cognito):
    assert profile_of(api.get(f"/api/users/{owner}/"))["id"] == owner


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_another_users_id_is_403_on_every_route(api, other_user, without_cognito, method, path):
    response = getattr(api, method)(path.format(id=other_user), {"name": "Mallory"}, format="json")
    assert_error(response, 403, "FORBIDDEN", NOT_YOURS)
    assert not Profile.objects.filter(user_id=other_user).exists()


def test_403_comes_before_the_body_is_read(api, other_user, without_cognito):
    response = api.patch(f"/api/users/{other_user}", {"name": "!!"}, format="json")
    assert_error(response, 403, "FORBIDDEN", NOT_YOURS)


@override_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_AUTH="5/900", RATE_LIMIT_GENERAL="100/900")
def test_five_foreign_ids_exhaust_the_auth_limit_even_for_your_own_profile(api, owner, other_user, without_cognito):
    assert profile_of(api.get("/api/users/me"))["id"] == owner  # a success does not count
    for _ in range(5):
        assert_error(api.get(f"/api/users/{other_user}"), 403, "FORBIDDEN", NOT_YOURS)

    response = api.get("/api/users/me")
    error = assert_error(response, 429, "TOO_MANY_REQUESTS")
    assert error["details"]["category"] == "auth"
    assert 0 < int(response["Retry-After"]) <= 900


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_is_401_on_every_route(anonymous, method, path):
    response = getattr(anonymous, method)(path.format(id="me"))
    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_method_the_route_does_not_serve_is_405(api):
    response = api.post("/api/users/me", {"name": "Jane"}, format="json")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in response["Allow"].split(",")} >= {"GET", "PATCH", "PUT"}


# --- Identity ---------------------------------------------------------------------------------------------------


def test_a_user_cognito_does_not_know_is_404(api, cognito):
    assert_error(api.get("/api/users/me"), 404, "NOT_FOUND", "User not found")


def test_the_name_is_built_from_given_and_family_name(api, owner, cognito):
    cognito.add_user(owner, email="ada@example.com", given_name="Ada", family_name="Lovelace")
    assert profile_of(api.get("/api/users/me"))["name"] == "Ada Lovelace"


def test_the_name_attribute_wins_over_given_and_family_name(api, owner, cognito):
    cognito.add_user(owner, name="Countess", given_name="Ada", family_name="Lovelace")
    assert profile_of(api.get("/api/users/me"))["name"] == "Countess"


def test_without_any_name_in_cognito_the_rows_name_is_shown(auth_client, owner, cognito):
    cognito.add_user(owner, email="quiet@example.com")
    api = auth_client(owner, name="Mirrored Name", email="token@example.com")  # the mirror fills the row
    profile = profile_of(api.get("/api/users/me"))
    assert profile["name"] == "Mirrored Name"
    assert profile["email"] == "quiet@example.com", "Cognito's email wins over the mirrored one"


def test_without_cognito_the_row_is_the_only_source(auth_client, owner, without_cognito):
    api = auth_client(owner, name="Jane Builder", email="jane@example.com")
    profile = profile_of(api.get(f"/api/users/{owner}"))
    assert (profile["name"], profile["email"]) == ("Jane Builder", "jane@example.com")


def test_a_profile_row_removed_since_the_mirror_ran_is_made_again(api, owner, without_cognito):
    assert api.delete("/api/users/me/avatar").status_code == 200  # the mirror ran: its 24 h flag is set
    Profile.objects.filter(user_id=owner).delete()
    assert profile_of(api.get("/api/users/me"))["id"] == owner
    assert Profile.objects.filter(user_id=owner).count() == 1


# --- U2 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_rename_updates_cognito_first_then_the_row(api, owner, cognito, method):
    cognito.add_user(owner, email="jane@example.com", name="Jane")
    response = getattr(api, method)("/api/users/me", {"name": "  Jane Builder  "}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Profile updated successfully"
    assert response.json()["data"]["name"] == "Jane Builder"
    assert cognito.attributes(owner)["name"] == "Jane Builder"
    assert Profile.objects.get(user_id=owner).name == "Jane Builder"
    assert profile_of(api.get("/api/users/me"))["name"] == "Jane Builder"


def test_rename_without_cognito_updates_the_row(api, owner, without_cognito):
    before = profile_of(api.get("/api/users/me"))
    renamed = profile_of(api.patch(f"/api/users/{owner}", {"name": "Émilie 2"}, format="json"))
    assert renamed["name"] == "Émilie 2"
    assert renamed["updatedAt"] > before["updatedAt"]


def test_rename_of_a_user_cognito_does_not_know_is_503_and_changes_nothing(api, owner, cognito):
    response = api.patch("/api/users/me", {"name": "Jane"}, format="json")
    assert_error(response, 503, "SERVICE_UNAVAILABLE", "Identity service unavailable")
    assert Profile.objects.get(user_id=owner).name is None


def test_a_patch_without_a_name_changes_nothing(api, owner, without_cognito):
    before = profile_of(api.get("/api/users/me"))
    assert profile_of(api.patch("/api/users/me", {}, format="json")) == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field may not be blank."),
        ("   ", "This field may not be blank."),
        (None, "This field may not be null."),
        ("x" * 101, "Ensure this field has no more than 100 characters."),
        ("Jane  Builder", "Only letters, digits 0-9 and single spaces are allowed."),
        ("Jane_Builder", "Only letters, digits 0-9 and single spaces are allowed."),
        ("Jane-Builder", "Only letters, digits 0-9 and single spaces are allowed."),
        ("Jane\tBuilder", "Only letters, digits 0-9 and single spaces are allowed."),
        ("R2D2 ٣", "Only letters, digits 0-9 and single spaces are allowed."),  # an Arabic-Indic digit
        ("Bob 🙂", "Only letters, digits 0-9 and single spaces are allowed."),
        (["Jane"], "Not a valid string."),
    ],
)
def test_name_rule_violations_are_400_on_name(api, owner, without_cognito, name, message):
    response = api.patch("/api/users/me", {"name": name}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", fields={"name": [message]})


@pytest.mark.parametrize("name", ["x" * 100, "Zoë Ångström", "李小龍", "देवनागरी", "Jose\u0301 3", "R2D2"])
def test_names_within_the_rule_are_stored(api, owner, without_cognito, name):
    assert profile_of(api.patch("/api/users/me", {"name": name}, format="json"))["name"] == name


# --- Cognito failing --------------------------------------------------------------------------------------------


@pytest.fixture
def unreachable_cognito(cognito, monkeypatch):
    """Cognito configured, but its endpoint refuses connections (nothing listens on the discard port)."""
    monkeypatch.setenv(ENDPOINT_VARIABLE, "http://127.0.0.1:9")
    return cognito


def test_when_cognito_fails_the_row_is_served_and_a_warning_logged(auth_client, owner, unreachable_cognito, caplog):
    api = auth_client(owner, name="Mirrored Name", email="jane@example.com")
    response = api.get("/api/users/me")

    profile = profile_of(response)
    assert (profile["id"], profile["name"], profile["email"]) == (owner, "Mirrored Name", "jane@example.com")
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and r.name == "lego_api.profiles"]
    assert [r.getMessage() for r in warnings] == ["identity provider unavailable; profile row served"]
    assert warnings[0].errorType == "EndpointConnectionError"


def test_a_profile_served_without_cognito_is_not_cached(auth_client, owner, cognito, monkeypatch):
    cognito.add_user(owner, name="Cognito Name")
    api = auth_client(owner, name="Mirrored Name")
    with monkeypatch.context() as broken:
        broken.setenv(ENDPOINT_VARIABLE, "http://127.0.0.1:9")
        assert profile_of(api.get("/api/users/me"))["name"] == "Mirrored Name"

    response = api.get("/api/users/me")
    assert (response["X-Cache"], profile_of(response)["name"]) == ("MISS", "Cognito Name")
    assert api.get("/api/users/me")["X-Cache"] == "HIT"


def test_a_missing_user_pool_is_a_failure_not_an_unknown_user(api, owner, cognito, settings, caplog):
    settings.COGNITO_USER_POOL_ID = "us-east-1_nosuchpool"
    assert profile_of(api.get("/api/users/me"))["id"] == owner
    assert any(getattr(r, "errorType", None) == "ResourceNotFoundException" for r in caplog.records)


def test_rename_while_cognito_fails_is_503_and_changes_nothing(api, owner, unreachable_cognito, caplog):
    response = api.patch("/api/users/me", {"name": "Jane"}, format="json")
    assert_error(response, 503, "SERVICE_UNAVAILABLE", "Identity service unavailable")
    assert Profile.objects.get(user_id=owner).name is None
    assert "identity provider refused a rename" in caplog.messages
    assert "unhandled exception" not in caplog.messages, "an expected 503 is a warning, not a 500's traceback"
