"""`process_gallery_image` (SPEC §5.5, §7.3) through G1 and on its own, against real SeaweedFS and PostgreSQL: what each
kind of upload becomes (orientation, alpha, 16-bit, CMYK, ICC, animation; GIF, truncated and bomb refusals), the
outputs in the bucket (sizes, WebP without metadata, served inline), the staging object gone; the task's
idempotency, its resumption after a crash, its failures; and the Lambda path, with only the Invoke call stubbed."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.test import override_settings
from PIL import Image
from zappa.asynchronous import route_lambda_task

from gallery.models import GalleryImage, ProcessingStatus
from gallery.services.processing import MSG_INTERRUPTED, MSG_ORIGINAL_MISSING
from gallery.tasks import process_gallery_image
from lego_api.core import storage
from lego_api.core.files import HEIC_SUPPORTED
from tests.core.test_images import (
    BLUE,
    GREEN,
    RED,
    YELLOW,
    assert_close,
    colour_at,
    encode,
    photo,
    png_bomb,
    quadrants,
    rgb_profile,
    riff_chunks,
    with_orientation,
)
from tests.deploy.test_tasks_on_lambda import lambda_stub, on_lambda  # noqa: F401 (fixtures)
from tests.gallery.conftest import image_part, photo_bytes
from tests.helpers import assert_error, s3_storage_settings, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)


def read_object(key: str) -> bytes:
    with storage.open_object(key) as file:
        return file.read()


def stored_image(key: str) -> Image.Image:
    image = Image.open(io.BytesIO(read_object(key)))
    assert image.format == "WEBP"
    image.load()
    return image


def outputs(row: GalleryImage) -> tuple[Image.Image, Image.Image]:
    return stored_image(row.image_url), stored_image(row.thumbnail_url)


def uploaded(api, upload_image, name: str, data: bytes, content_type: str) -> GalleryImage:
    response = upload_image(api, image_part(name, data, content_type))
    assert response.status_code == 201, response.content
    assert response.json()["data"]["processingStatus"] == "ready"
    return GalleryImage.objects.get(pk=response.json()["data"]["id"])


def user_keys(user_id: str) -> list[str]:
    segment = storage.user_key_segment(user_id)
    return stored_keys(f"images/{segment}/") + stored_keys(f"tmp/{segment}/")


# --- What an upload becomes -----------------------------------------------------------------------------------------


def test_large_jpeg_becomes_a_2048_wide_webp_and_a_400_wide_thumbnail_in_the_bucket(api, owner, upload_image):
    row = uploaded(api, upload_image, "big.jpg", photo_bytes("JPEG", (3000, 2000), quality=90), "image/jpeg")

    image, thumbnail = outputs(row)
    assert (image.size, thumbnail.size) == ((2048, 1365), (400, 267))
    assert user_keys(owner) == sorted([row.image_url, row.thumbnail_url])  # the original is gone
    for key in (row.image_url, row.thumbnail_url):
        assert storage.head(key).content_type == "image/webp"


def test_webp_outputs_carry_no_exif_xmp_or_icc(api, upload_image):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    data = encode(photo((800, 600)), "JPEG", exif=exif, icc_profile=rgb_profile(gamma=2.2)).getvalue()

    row = uploaded(api, upload_image, "meta.jpg", data, "image/jpeg")

    for key in (row.image_url, row.thumbnail_url):
        chunks = riff_chunks(read_object(key))
        assert not {b"EXIF", b"XMP ", b"ICCP"} & set(chunks), list(chunks)
        info = stored_image(key).info
        assert not {"exif", "xmp", "icc_profile"} & set(info)


def test_jpeg_with_exif_orientation_6_is_stored_upright(api, upload_image):
    row = uploaded(api, upload_image, "turned.jpg", with_orientation(quadrants((600, 400)), 6).getvalue(), "image/jpeg")

    image, thumbnail = outputs(row)
    assert (image.size, thumbnail.size) == ((400, 600), (400, 600))
    for picture in (image, thumbnail):
        assert_close(colour_at(picture, 0.25, 0.25), BLUE)
        assert_close(colour_at(picture, 0.75, 0.25), RED)
        assert_close(colour_at(picture, 0.25, 0.75), YELLOW)
        assert_close(colour_at(picture, 0.75, 0.75), GREEN)


def test_png_with_alpha_keeps_its_transparency(api, upload_image):
    source = Image.new("RGBA", (500, 300), (*RED, 255))
    source.paste((0, 0, 0, 0), (250, 0, 500, 300))

    row = uploaded(api, upload_image, "alpha.png", encode(source, "PNG").getvalue(), "image/png")

    image, thumbnail = outputs(row)
    assert image.mode == thumbnail.mode == "RGBA"
    assert image.getpixel((10, 150))[3] == 255 and image.getpixel((490, 150))[3] == 0


def test_sixteen_bit_png_is_scaled_to_eight_bits(api, upload_image):
    source = Image.linear_gradient("L").resize((512, 256)).point(lambda value: value * 256, "I")
    data = encode(source.convert("I;16"), "PNG").getvalue()

    row = uploaded(api, upload_image, "deep.png", data, "image/png")

    image, _ = outputs(row)
    assert image.mode == "RGB" and image.size == (512, 256)
    assert colour_at(image, 0.5, 0.02)[0] < 20 and colour_at(image, 0.5, 0.98)[0] > 235  # not clipped to white


def test_cmyk_jpeg_becomes_rgb(api, upload_image):
    source = Image.new("CMYK", (400, 300), (0, 255, 255, 0))  # full magenta and yellow: red

    row = uploaded(api, upload_image, "print.jpg", encode(source, "JPEG", quality=95).getvalue(), "image/jpeg")

    image, _ = outputs(row)
    assert image.mode == "RGB"
    red, green, blue = colour_at(image, 0.5, 0.5)
    assert red > 200 and green < 60 and blue < 60


def test_icc_profiled_image_is_converted_to_srgb(api, upload_image):
    # A linear-light profile: sRGB must brighten the mid grey (128 → about 188).
    source = Image.new("RGB", (300, 200), (128, 128, 128))
    data = encode(source, "PNG", icc_profile=rgb_profile(gamma=1.0)).getvalue()

    row = uploaded(api, upload_image, "linear.png", data, "image/png")

    image, _ = outputs(row)
    assert_close(colour_at(image, 0.5, 0.5), (188, 188, 188), tolerance=10)
    assert "icc_profile" not in image.info


def test_animated_webp_gives_its_first_frame(api, upload_image):
    frames = [Image.new("RGB", (320, 240), colour) for colour in (GREEN, BLUE, RED)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)

    row = uploaded(api, upload_image, "spin.webp", buffer.getvalue(), "image/webp")

    image, _ = outputs(row)
    assert getattr(image, "n_frames", 1) == 1
    assert_close(colour_at(image, 0.5, 0.5), GREEN)


def test_gif_is_not_a_gallery_type(api, owner, upload_image):
    response = upload_image(api, image_part("anim.gif", photo_bytes("GIF", (64, 64)), "image/gif"))

    message = "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp"
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", message, {"image": [message]})
    assert user_keys(owner) == []


def test_heic_is_refused_without_pillow_heif(api, owner, upload_image):
    """SPEC §5.1: HEIC is a gallery type only with pillow-heif, which the default requirements leave out."""
    assert not HEIC_SUPPORTED
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

    response = upload_image(api, image_part("phone.heic", heic, "image/heic"))

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp")
    assert user_keys(owner) == []


def test_truncated_image_is_refused_at_upload(api, owner, upload_image):
    data = photo_bytes("JPEG", (800, 600))

    response = upload_image(api, image_part("cut.jpg", data[: len(data) // 2], "image/jpeg"))

    assert_error(response, 400, "VALIDATION_ERROR", "File is not a valid image")
    assert not GalleryImage.objects.filter(user_id=owner).exists()


def test_decompression_bomb_is_400_at_upload(api, owner, upload_image):
    response = upload_image(api, image_part("bomb.png", png_bomb(20_000, 12_000).getvalue(), "image/png"))

    message = "Image too large to process (max 50 megapixels)"
    assert_error(response, 400, "VALIDATION_ERROR", message, {"image": [message]})
    assert user_keys(owner) == []


# --- The task on its own ---------------------------------------------------------------------------------------------


def staged(owner: str, data: bytes | None = None, *, status: str = ProcessingStatus.PENDING) -> GalleryImage:
    """A row as G1 leaves it before the task runs: `pending`, its original under tmp/."""
    from tests.factories import GalleryImageFactory

    image = GalleryImageFactory(user_id=owner, processing_status=status)
    staging_key = f"tmp/{storage.user_key_segment(owner)}/{image.pk}.jpg"
    storage.save_bytes(staging_key, photo_bytes() if data is None else data, content_type="image/jpeg")
    GalleryImage.objects.filter(pk=image.pk).update(staging_key=staging_key)
    image.refresh_from_db()
    return image


def test_a_ready_image_is_left_alone(api, owner, upload_image):
    row = uploaded(api, upload_image, "done.jpg", photo_bytes(), "image/jpeg")
    storage.delete_keys([row.thumbnail_url])

    process_gallery_image(str(row.pk))

    assert GalleryImage.objects.get(pk=row.pk).processing_status == "ready"
    assert storage.head(row.thumbnail_url) is None  # nothing was written again


def test_a_run_after_a_crash_mid_processing_starts_again(owner):
    image = staged(owner, status=ProcessingStatus.PROCESSING)

    process_gallery_image(str(image.pk))

    image.refresh_from_db()
    assert (image.processing_status, image.processing_error, image.staging_key) == ("ready", None, None)
    assert user_keys(owner) == sorted([image.image_url, image.thumbnail_url])


def test_a_run_that_crashed_after_deleting_the_original_is_ready(owner):
    image = staged(owner, status=ProcessingStatus.PROCESSING)
    for key in (image.image_url, image.thumbnail_url):
        storage.save_bytes(key, encode(photo((40, 30)), "WEBP").getvalue(), content_type="image/webp")
    storage.delete_keys([image.staging_key])

    process_gallery_image(str(image.pk))

    image.refresh_from_db()
    assert (image.processing_status, image.staging_key) == ("ready", None)


def test_an_original_gone_without_outputs_fails(owner):
    image = staged(owner)
    storage.delete_keys([image.staging_key])

    process_gallery_image(str(image.pk))

    image.refresh_from_db()
    assert (image.processing_status, image.processing_error) == ("failed", MSG_ORIGINAL_MISSING)


def test_a_truncated_original_fails_and_is_deleted(owner):
    data = photo_bytes("JPEG", (800, 600))
    image = staged(owner, data[: len(data) // 2])

    process_gallery_image(str(image.pk))

    image.refresh_from_db()
    assert (image.processing_status, image.processing_error, image.staging_key) == (
        "failed",
        "File is not a valid image",
        None,
    )
    assert user_keys(owner) == []


def test_a_gone_image_is_a_no_op():
    process_gallery_image(str(uuid.uuid4()))


def test_a_storage_outage_inline_records_failed(owner, settings):
    image = staged(owner)

    with override_settings(STORAGES=s3_storage_settings(endpoint_url="http://127.0.0.1:9", connect_timeout=1)):
        process_gallery_image(str(image.pk))

    image.refresh_from_db()
    assert (image.processing_status, image.processing_error) == ("failed", MSG_INTERRUPTED)


def test_a_storage_outage_on_lambda_is_raised_for_a_retry(owner, on_lambda):  # noqa: F811
    image = staged(owner)

    unreachable = override_settings(STORAGES=s3_storage_settings(endpoint_url="http://127.0.0.1:9", connect_timeout=1))
    with unreachable, pytest.raises(Exception):  # noqa: B017 - whatever botocore raises for a refused connection
        process_gallery_image(str(image.pk))

    image.refresh_from_db()
    assert image.processing_status == "processing"  # the retry starts again from here
    process_gallery_image.sync(str(image.pk))
    image.refresh_from_db()
    assert image.processing_status == "ready"


# --- On Lambda: G1 queues the task on the worker ----------------------------------------------------------------


def run_worker(stub) -> list[str]:
    """Run every task the stubbed Lambda client was asked to invoke, as the worker function would from the event
    (tasks those tasks queue included); returns their paths in order."""
    ran = []
    while stub.sent:
        message = json.loads(stub.sent.pop(0)["Payload"])
        ran.append(message["task_path"])
        route_lambda_task(message, None)
    return ran


def test_on_lambda_upload_answers_pending_and_the_worker_makes_it_ready(
    api,
    owner,
    upload_image,
    on_lambda,  # noqa: F811
    lambda_stub,  # noqa: F811
):
    for _ in range(10):
        lambda_stub.add_response("invoke", {"StatusCode": 202})

    response = upload_image(api, image_part("queued.jpg", photo_bytes("JPEG", (2500, 1000)), "image/jpeg"))

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["processingStatus"] == "pending"
    row = GalleryImage.objects.get(pk=data["id"])
    assert f"/{row.image_url}" in data["imageUrl"] and f"/{row.thumbnail_url}" in data["thumbnailUrl"]  # final
    assert user_keys(owner) == [row.staging_key]  # only the original, under tmp/
    assert api.get(f"/api/images/{row.pk}").json()["data"]["processingStatus"] == "pending"
    sent = [json.loads(params["Payload"]) for params in lambda_stub.sent]
    assert {"task_path": "gallery.tasks.process_gallery_image", "args": [str(row.pk)]}.items() <= sent[0].items()
    assert all(params["FunctionName"] == "lego-api-dev-worker" for params in lambda_stub.sent)

    ran = run_worker(lambda_stub)

    assert ran[0] == "gallery.tasks.process_gallery_image"
    assert "lego_api.core.tasks.delete_storage_objects" in ran
    detail = api.get(f"/api/images/{row.pk}")
    assert detail["X-Cache"] == "MISS"  # the task bumped the owner's gallery
    assert detail.json()["data"]["processingStatus"] == "ready"
    image, thumbnail = outputs(row)
    assert (image.size, thumbnail.size) == ((2048, 819), (400, 160))
    assert user_keys(owner) == sorted([row.image_url, row.thumbnail_url])


def test_on_lambda_a_truncated_original_ends_failed(api, owner, upload_image, on_lambda, lambda_stub):  # noqa: F811
    for _ in range(10):
        lambda_stub.add_response("invoke", {"StatusCode": 202})
    data = upload_image(api).json()["data"]
    row = GalleryImage.objects.get(pk=data["id"])
    original = read_object(row.staging_key)
    storage.save_bytes(row.staging_key, original[: len(original) // 2], content_type="image/jpeg")

    run_worker(lambda_stub)

    failed = api.get(f"/api/images/{row.pk}").json()["data"]
    assert (failed["processingStatus"], failed["processingError"]) == ("failed", "File is not a valid image")
    assert user_keys(owner) == []
