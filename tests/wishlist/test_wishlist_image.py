"""W8 `POST /api/wishlist/{id}/image` (SPEC §4.4, §5.1-§5.5) against the real bucket (SeaweedFS): processed inline to
at most 800 px wide WebP (EXIF orientation applied, alpha kept, never upscaled), stored at a new key each upload with
its size; the replaced object deleted after commit; the §5.2 refusals (413, 415, 400s); on any failure the item and
its old image untouched and no new object left. W6 and W7 delete an uploaded image they replace or orphan."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from PIL import Image, ImageDraw

from lego_api.core import storage
from lego_api.core.ratelimit import UPLOAD, categories_for
from tests.core.test_images import BLUE, GREEN, RED, YELLOW, assert_close, colour_at, png_bomb, quadrants
from tests.helpers import assert_error, stored_keys
from tests.samples import PDF, image_bytes
from tests.wishlist.factories import WishlistItemFactory
from tests.wishlist.uploads import jpeg_bytes, upload_image
from wishlist.models import WishlistItem

# The replaced object is deleted after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

MB = 1_048_576
WEBP_KEY = re.compile(r"wishlist/(?P<uid>[A-Za-z0-9_-]+)/(?P<item>[0-9a-f-]{36})-(?P<v>[0-9a-f]{8})\.webp")


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def upload(api, item, content: bytes, name: str = "photo.jpg", *, field: str = "image", content_type=None):
    return upload_image(
        api, item.id, content, name, field=field, content_type=content_type or "application/octet-stream"
    )


def stored_image(key: str) -> Image.Image:
    with storage.open_object(key) as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    assert image.format == "WEBP"
    return image


def prefix(owner: str) -> str:
    return f"wishlist/{storage.user_key_segment(owner)}/"


@pytest.fixture
def item(owner) -> WishlistItem:
    return WishlistItemFactory(user_id=owner, image_url="https://images.example.com/before.jpg")


def uploaded(api, item, content: bytes | None = None) -> WishlistItem:
    response = upload(api, item, content or jpeg_bytes((1600, 1200)))
    assert response.status_code == 200, response.content
    return WishlistItem.objects.get(pk=item.pk)


# --- Success ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["image", "file"])
def test_a_jpeg_becomes_an_800_wide_webp_at_a_new_key_with_its_size(api, owner, item, field):
    response = upload(api, item, jpeg_bytes((1600, 1200)), field=field, content_type="image/jpeg")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Wishlist image uploaded successfully"
    assert (body["data"]["imageWidth"], body["data"]["imageHeight"]) == (800, 600)
    stored = WishlistItem.objects.get(pk=item.pk)
    match = WEBP_KEY.fullmatch(stored.image_url)
    assert match and match["item"] == str(item.id) and match["uid"] == storage.user_key_segment(owner)
    assert stored_keys(prefix(owner)) == [stored.image_url]
    assert storage.head(stored.image_url).content_type == "image/webp"
    assert stored_image(stored.image_url).size == (800, 600)
    assert body["data"]["imageUrl"].startswith("http") and stored.image_url in body["data"]["imageUrl"]
    assert body["data"]["updatedAt"] > body["data"]["createdAt"]


def test_an_exif_rotated_jpeg_is_stored_upright(api, item):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 300x200, displayed turned 90° clockwise
    response = upload(api, item, encoded(quadrants(), "JPEG", quality=95, exif=exif))
    assert (response.json()["data"]["imageWidth"], response.json()["data"]["imageHeight"]) == (200, 300)
    image = stored_image(WishlistItem.objects.get(pk=item.pk).image_url)
    assert image.size == (200, 300)
    assert not image.getexif()
    assert_close(colour_at(image, 0.25, 0.25), BLUE)
    assert_close(colour_at(image, 0.75, 0.25), RED)
    assert_close(colour_at(image, 0.25, 0.75), YELLOW)
    assert_close(colour_at(image, 0.75, 0.75), GREEN)


def test_a_png_with_alpha_keeps_its_transparency(api, item):
    source = Image.new("RGBA", (1000, 500), (*RED, 255))
    ImageDraw.Draw(source).rectangle((500, 0, 1000, 500), fill=(0, 0, 0, 0))
    response = upload(api, item, encoded(source, "PNG"), "cut-out.png")
    assert (response.json()["data"]["imageWidth"], response.json()["data"]["imageHeight"]) == (800, 400)
    image = stored_image(WishlistItem.objects.get(pk=item.pk).image_url)
    assert image.mode == "RGBA"
    assert_close(image.getpixel((100, 200)), (*RED, 255))
    assert image.getpixel((700, 200))[3] == 0


def test_a_small_image_is_not_upscaled(api, item):
    response = upload(api, item, image_bytes("WEBP", (120, 90)), "small.webp")
    assert (response.json()["data"]["imageWidth"], response.json()["data"]["imageHeight"]) == (120, 90)


def test_a_second_upload_gets_a_new_key_and_the_old_object_is_deleted(api, owner, item):
    first = uploaded(api, item).image_url
    second = uploaded(api, item, jpeg_bytes((400, 300))).image_url
    assert second != first
    assert stored_keys(prefix(owner)) == [second]
    assert (WishlistItem.objects.get(pk=item.pk).image_width, WishlistItem.objects.get(pk=item.pk).image_height) == (
        400,
        300,
    )


def test_w8_is_an_upload_route_for_the_rate_limits(item):
    assert categories_for(RequestFactory().post(f"/api/wishlist/{item.id}/image")) == ["general", UPLOAD]
    for method, path in [
        ("post", "/api/wishlist"),
        ("post", "/api/wishlist/reorder"),
        ("patch", f"/api/wishlist/{item.id}"),
    ]:
        assert categories_for(getattr(RequestFactory(), method)(path)) == ["general"]


# --- Refusals: nothing changes ---------------------------------------------------------------------------------------


def snapshot(item: WishlistItem) -> tuple:
    row = WishlistItem.objects.get(pk=item.pk)
    return row.image_url, row.image_width, row.image_height, row.updated_at


@pytest.fixture
def with_uploaded_image(api, item) -> WishlistItem:
    """The item with an uploaded image already: a refused upload must keep it."""
    return uploaded(api, item, jpeg_bytes((640, 480)))


REFUSALS = [
    (
        "oversize",
        lambda: jpeg_bytes((16, 16)) + b"\0" * (5 * MB),
        "big.jpg",
        413,
        "PAYLOAD_TOO_LARGE",
        "File too large (max 5 MB)",
    ),
    (
        "pdf",
        lambda: PDF,
        "manual.pdf",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp",
    ),
    (
        "gif",
        lambda: image_bytes("GIF"),
        "anim.gif",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp",
    ),
    (
        "bomb",
        lambda: png_bomb(10_000, 6_000).getvalue(),
        "bomb.png",
        400,
        "VALIDATION_ERROR",
        "Image too large to process (max 50 megapixels)",
    ),
    ("truncated", lambda: image_bytes("PNG")[:40], "cut.png", 400, "VALIDATION_ERROR", "File is not a valid image"),
    ("empty", lambda: b"", "empty.jpg", 400, "VALIDATION_ERROR", "File is empty"),
    (
        "mismatch",
        lambda: image_bytes("PNG"),
        "photo.jpg",
        400,
        "VALIDATION_ERROR",
        "File content does not match its extension or declared type",
    ),
]


@pytest.mark.parametrize(
    ("content", "name", "status", "error_type", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_a_refused_file_changes_nothing(api, owner, with_uploaded_image, content, name, status, error_type, message):
    before, keys = snapshot(with_uploaded_image), stored_keys(prefix(owner))
    response = upload(api, with_uploaded_image, content(), name)
    assert_error(response, status, error_type, message, fields={"image": [message]})
    assert snapshot(with_uploaded_image) == before
    assert stored_keys(prefix(owner)) == keys


def test_no_file_is_400_on_image(api, item):
    response = api.post(f"/api/wishlist/{item.id}/image", {"title": "no file"}, format="multipart")
    assert_error(response, 400, "VALIDATION_ERROR", "No file provided", fields={"image": ["No file provided"]})


def test_a_file_under_another_name_or_two_files_are_refused(api, item):
    part = SimpleUploadedFile("a.jpg", jpeg_bytes((16, 16)))
    response = api.post(f"/api/wishlist/{item.id}/image", {"avatar": part}, format="multipart")
    assert_error(response, 400, "VALIDATION_ERROR", "Unexpected file field")
    two = [SimpleUploadedFile("a.jpg", jpeg_bytes((16, 16))), SimpleUploadedFile("b.jpg", jpeg_bytes((16, 16)))]
    response = api.post(f"/api/wishlist/{item.id}/image", {"image": two}, format="multipart")
    assert_error(response, 400, "VALIDATION_ERROR", "Only one file can be uploaded")


def test_json_is_415(api, item):
    response = api.post(f"/api/wishlist/{item.id}/image", {"image": "x"}, format="json")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be multipart/form-data")


@contextlib.contextmanager
def failing_commit_of_item_updates() -> Iterator[None]:
    """A real deferred PostgreSQL constraint trigger: any transaction that updates a wishlist row fails at COMMIT,
    after W8 has written its object."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION test_failing_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected commit failure'; END $$"
        )
        cursor.execute(
            "CREATE CONSTRAINT TRIGGER test_failing_commit AFTER UPDATE ON wishlist_items "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_failing_commit()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS test_failing_commit ON wishlist_items")
            cursor.execute("DROP FUNCTION IF EXISTS test_failing_commit()")


def test_a_failing_commit_leaves_the_item_and_its_old_image_and_no_new_object(auth_client, owner, with_uploaded_image):
    api = auth_client(owner)
    api.raise_request_exception = False
    before, keys = snapshot(with_uploaded_image), stored_keys(prefix(owner))
    with failing_commit_of_item_updates():
        response = upload(api, with_uploaded_image, jpeg_bytes((900, 900)))
    assert_error(response, 500, "INTERNAL_ERROR", "An unexpected error occurred")
    assert snapshot(with_uploaded_image) == before
    assert stored_keys(prefix(owner)) == keys == [before[0]]


# --- W6 and W7 with an uploaded image ---------------------------------------------------------------------------------


def test_an_external_image_url_replaces_the_uploaded_image_and_deletes_its_object(api, owner, with_uploaded_image):
    response = api.patch(
        f"/api/wishlist/{with_uploaded_image.id}", {"imageUrl": "https://images.example.com/new.jpg"}, format="json"
    )
    data = response.json()["data"]
    assert (data["imageUrl"], data["imageWidth"], data["imageHeight"]) == (
        "https://images.example.com/new.jpg",
        None,
        None,
    )
    assert stored_keys(prefix(owner)) == []


def test_an_update_that_keeps_the_image_keeps_its_object(api, owner, with_uploaded_image):
    response = api.patch(f"/api/wishlist/{with_uploaded_image.id}", {"title": "Renamed"}, format="json")
    assert (response.json()["data"]["imageWidth"], response.json()["data"]["imageHeight"]) == (640, 480)
    assert stored_keys(prefix(owner)) == [with_uploaded_image.image_url]


def test_sending_back_the_rendered_image_url_keeps_the_uploaded_image(api, owner, with_uploaded_image):
    """A client that PATCHes the item as it read it sends the presigned URL of its image: that is no change."""
    read = api.get(f"/api/wishlist/{with_uploaded_image.id}").json()["data"]
    response = api.patch(
        f"/api/wishlist/{with_uploaded_image.id}",
        {**read, "title": "Renamed", "imageUrl": read["imageUrl"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert snapshot(with_uploaded_image)[:3] == (with_uploaded_image.image_url, 640, 480)
    assert stored_keys(prefix(owner)) == [with_uploaded_image.image_url]


def test_clearing_the_image_deletes_its_object(api, owner, with_uploaded_image):
    response = api.patch(f"/api/wishlist/{with_uploaded_image.id}", {"imageUrl": None}, format="json")
    assert response.json()["data"]["imageUrl"] is None
    assert stored_keys(prefix(owner)) == []


def test_deleting_the_item_deletes_its_uploaded_image(api, owner, with_uploaded_image):
    assert api.delete(f"/api/wishlist/{with_uploaded_image.id}").status_code == 200
    assert stored_keys(prefix(owner)) == []
