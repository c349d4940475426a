"""U3 and U4 (SPEC §4.5, §5.1-§5.5): the avatar is the centre square at 256x256 WebP, written to
`avatars/{uid}/avatar.webp` (overwritten), named by the row; `?v=` behind a CDN; the §5.2 errors; nothing changes
when an upload fails; delete succeeds without an avatar and deletes the object after commit."""

from __future__ import annotations

import io

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from lego_api.core import orphans
from profiles.keys import avatar_key
from profiles.models import Profile
from tests.core.test_images import png_bomb
from tests.helpers import assert_error, stored_keys
from tests.profiles.uploads import BLUE, GREEN, bands, image_file, stored_object
from tests.samples import PDF

# Writes must commit for their after-commit effects (bump, object deletion) to run, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

ALLOWED = "Unsupported file type. Allowed: .jpg, .jpeg, .png, .gif, .webp"


def upload(api, file, field: str = "avatar", path: str = "/api/users/me/avatar"):
    return api.post(path, {field: file}, format="multipart")


def uploaded(api, file, **kwargs) -> str:
    response = upload(api, file, **kwargs)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Avatar uploaded successfully"
    assert list(body["data"]) == ["avatarUrl"]
    return body["data"]["avatarUrl"]


def decoded(key: str) -> Image.Image:
    image = Image.open(io.BytesIO(stored_object(key)))
    image.load()
    return image


def near(actual, expected, tolerance: int = 16) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def avatar_prefix(owner: str) -> str:
    return avatar_key(owner).rsplit("/", 1)[0] + "/"


# --- Upload ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["avatar", "file"])
def test_upload_stores_the_centre_square_as_a_256_webp(api, owner, without_cognito, field):
    url = uploaded(api, bands((600, 300)), field=field)

    key = avatar_key(owner)
    assert key == f"avatars/{owner}/avatar.webp"
    assert stored_keys(avatar_prefix(owner)) == [key]
    image = decoded(key)
    assert (image.format, image.size) == ("WEBP", (256, 256))
    for corner in [(2, 2), (253, 2), (2, 253), (253, 253)]:
        assert near(image.getpixel(corner), GREEN), "the red and blue margins are cropped off"
    row = Profile.objects.get(user_id=owner)
    assert row.avatar_url == key
    assert url and key in url


def test_the_profile_shows_the_avatar(api, owner, without_cognito):
    url = uploaded(api, image_file())
    assert api.get("/api/users/me").json()["data"]["avatarUrl"].split("?")[0] == url.split("?")[0]


def test_the_handed_out_url_serves_the_webp_inline(api, owner, without_cognito):
    """SPEC §5.3: an image the API produced may be served inline with its image type."""
    response = requests.get(uploaded(api, image_file()), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/webp"
    assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert Image.open(io.BytesIO(response.content)).size == (256, 256)


@pytest.mark.parametrize(
    ("size", "fmt", "name"), [((64, 48), "JPEG", "me.jpg"), ((40, 40), "GIF", "me.gif"), ((300, 500), "WEBP", "m.webp")]
)
def test_every_avatar_type_becomes_a_256_square(api, owner, without_cognito, size, fmt, name):
    uploaded(api, image_file(size, fmt, name))
    assert decoded(avatar_key(owner)).size == (256, 256)


def test_a_second_upload_overwrites_the_same_key(api, owner, without_cognito):
    uploaded(api, image_file(colour=GREEN))
    first_updated = Profile.objects.get(user_id=owner).updated_at
    uploaded(api, image_file(colour=BLUE))

    assert stored_keys(avatar_prefix(owner)) == [avatar_key(owner)]
    assert near(decoded(avatar_key(owner)).getpixel((128, 128)), BLUE)
    assert Profile.objects.get(user_id=owner).updated_at > first_updated


@override_settings(MEDIA_CDN_DOMAIN="cdn.example.com")
def test_with_a_cdn_the_url_carries_the_profile_version(api, owner, without_cognito):
    url = uploaded(api, image_file())
    row = Profile.objects.get(user_id=owner)
    version = int(row.updated_at.timestamp() * 1000)
    assert url == f"https://cdn.example.com/avatars/{owner}/avatar.webp?v={version}"
    assert api.get("/api/users/me").json()["data"]["avatarUrl"] == url

    second = uploaded(api, image_file(colour=BLUE))
    assert second != url and second.startswith(f"https://cdn.example.com/avatars/{owner}/avatar.webp?v=")


def test_with_file_system_storage_the_media_url_serves_the_avatar(api, owner, without_cognito, tmp_path):
    from tests.helpers import file_system_storage

    with file_system_storage(tmp_path / "media"):
        url = uploaded(api, image_file())
        assert url.startswith("http://testserver/media/avatars/")
        served = api.get(url.removeprefix("http://testserver"))
        assert served.status_code == 200
        assert served["Content-Type"] == "image/webp"
        assert (tmp_path / "media" / avatar_key(owner)).is_file()


# --- Refused uploads ----------------------------------------------------------------------------------------------


def oversize() -> SimpleUploadedFile:
    return SimpleUploadedFile("big.png", image_file().read() + b"\0" * (2 * 1_048_576), content_type="image/png")


@pytest.mark.parametrize(
    ("file", "field", "status", "error_type", "message"),
    [
        (oversize(), "avatar", 413, "PAYLOAD_TOO_LARGE", "File too large (max 2 MB)"),
        (SimpleUploadedFile("doc.pdf", PDF), "avatar", 415, "UNSUPPORTED_MEDIA_TYPE", ALLOWED),
        (SimpleUploadedFile("me.png", PDF), "file", 415, "UNSUPPORTED_MEDIA_TYPE", ALLOWED),
        (
            SimpleUploadedFile("me.jpg", image_file().read()),
            "avatar",
            400,
            "VALIDATION_ERROR",
            "File content does not match its extension or declared type",
        ),
        (
            SimpleUploadedFile("bomb.png", png_bomb(10_000, 6_000).getvalue(), "image/png"),
            "avatar",
            400,
            "VALIDATION_ERROR",
            "Image too large to process (max 50 megapixels)",
        ),
        (
            SimpleUploadedFile("cut.png", image_file().read()[:60], "image/png"),
            "avatar",
            400,
            "VALIDATION_ERROR",
            "File is not a valid image",
        ),
        (SimpleUploadedFile("empty.png", b"", "image/png"), "avatar", 400, "VALIDATION_ERROR", "File is empty"),
    ],
    ids=["oversize", "pdf", "pdf-named-png", "mismatch", "bomb", "truncated", "empty"],
)
def test_refused_files_change_nothing(api, owner, without_cognito, file, field, status, error_type, message):
    uploaded(api, image_file(colour=GREEN))
    before = Profile.objects.get(user_id=owner)

    file.seek(0)
    response = upload(api, file, field=field)

    assert_error(response, status, error_type, message, fields={field: [message]})
    after = Profile.objects.get(user_id=owner)
    assert (after.avatar_url, after.updated_at) == (before.avatar_url, before.updated_at)
    assert near(decoded(avatar_key(owner)).getpixel((128, 128)), GREEN)


def test_no_file_is_400_on_avatar(api, without_cognito):
    response = api.post("/api/users/me/avatar", {"note": "no file"}, format="multipart")
    assert_error(response, 400, "VALIDATION_ERROR", "No file provided", fields={"avatar": ["No file provided"]})


def test_a_file_under_another_field_is_400(api, without_cognito):
    response = upload(api, image_file(), field="image")
    assert_error(
        response, 400, "VALIDATION_ERROR", "Unexpected file field", fields={"image": ["Unexpected file field"]}
    )


def test_a_json_body_is_415(api, without_cognito):
    response = api.post("/api/users/me/avatar", {"avatar": "x"}, format="json")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_a_failed_first_upload_leaves_no_object_and_no_avatar(api, owner, without_cognito):
    assert_error(
        upload(api, SimpleUploadedFile("cut.png", image_file().read()[:60], "image/png")), 400, "VALIDATION_ERROR"
    )
    assert stored_keys(avatar_prefix(owner)) == []
    assert Profile.objects.get(user_id=owner).avatar_url is None


# --- Rate limits ----------------------------------------------------------------------------------------------------


@override_settings(
    RATE_LIMIT_ENABLED=True, RATE_LIMIT_UPLOAD="2/3600", RATE_LIMIT_AUTH="5/900", RATE_LIMIT_GENERAL="100/900"
)
def test_uploads_count_in_the_upload_category(api, without_cognito):
    assert [upload(api, image_file()).status_code for _ in range(2)] == [200, 200]
    error = assert_error(upload(api, image_file()), 429, "TOO_MANY_REQUESTS")
    assert error["details"]["category"] == "upload"
    assert api.delete("/api/users/me/avatar").status_code == 200, "the delete is not an upload"


@override_settings(
    RATE_LIMIT_ENABLED=True, RATE_LIMIT_UPLOAD="10/3600", RATE_LIMIT_AUTH="2/900", RATE_LIMIT_GENERAL="100/900"
)
def test_a_refused_upload_counts_in_the_auth_category_too(api, without_cognito):
    for _ in range(2):
        assert upload(api, SimpleUploadedFile("doc.pdf", PDF)).status_code == 415
    error = assert_error(api.get("/api/users/me"), 429, "TOO_MANY_REQUESTS")
    assert error["details"]["category"] == "auth"


# --- Delete -------------------------------------------------------------------------------------------------------


def test_delete_without_an_avatar_succeeds(api, owner, without_cognito):
    response = api.delete(f"/api/users/{owner}/avatar")
    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Avatar deleted successfully"
    assert response.json()["data"] == {"id": owner, "avatarUrl": None}


def test_delete_clears_the_row_and_deletes_the_object(api, owner, without_cognito):
    uploaded(api, image_file())
    response = api.delete("/api/users/me/avatar")

    assert response.json()["data"] == {"id": owner, "avatarUrl": None}
    assert Profile.objects.get(user_id=owner).avatar_url is None
    assert stored_keys(avatar_prefix(owner)) == []
    assert api.get("/api/users/me").json()["data"]["avatarUrl"] is None


def test_an_external_avatar_url_is_cleared_and_nothing_is_deleted(api, owner, without_cognito):
    api.get("/api/users/me")
    Profile.objects.filter(user_id=owner).update(avatar_url="https://images.example.com/me.png")
    assert api.delete("/api/users/me/avatar").status_code == 200
    assert Profile.objects.get(user_id=owner).avatar_url is None


# --- Orphans ------------------------------------------------------------------------------------------------------


def test_the_orphan_sweep_keeps_named_avatars_and_deletes_unnamed_ones(api, owner, other_api, other_user):
    from django.utils import timezone

    uploaded(api, image_file())
    uploaded(other_api, image_file())
    Profile.objects.filter(user_id=other_user).update(avatar_url=None)  # as a crash between write and commit leaves it

    later = timezone.now() + orphans.UNREFERENCED_GRACE + orphans.timedelta(minutes=1)
    for user in (owner, other_user):
        orphans.unreferenced_objects_sweep(now=later, within=avatar_prefix(user))
    assert "avatars/" in orphans.registered_prefixes()
    assert stored_keys(avatar_prefix(owner)) == [avatar_key(owner)]
    assert stored_keys(avatar_prefix(other_user)) == []
