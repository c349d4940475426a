"""Avatar files for the profile tests (real images made with Pillow) and what the bucket holds."""

from __future__ import annotations

import io
import os

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tools.devstack import s3_client

RED, GREEN, BLUE = (220, 20, 20), (20, 200, 20), (20, 20, 220)


def image_file(
    size: tuple[int, int] = (300, 200),
    fmt: str = "PNG",
    name: str = "me.png",
    colour: tuple[int, int, int] = (200, 30, 30),
    content_type: str = "application/octet-stream",
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def bands(size: tuple[int, int] = (600, 300), fmt: str = "PNG", name: str = "bands.png") -> SimpleUploadedFile:
    """Red | green | blue across a landscape image, the green exactly its centre square: an avatar crop keeps only
    the green."""
    width, height = size
    image = Image.new("RGB", size, GREEN)
    margin = (width - height) // 2
    image.paste(RED, (0, 0, margin, height))
    image.paste(BLUE, (width - margin, 0, width, height))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


def stored_object(key: str) -> bytes:
    """An object's bytes as SeaweedFS holds them (read with a client of the test's own, not through our code)."""
    client = s3_client(os.environ["AWS_ENDPOINT_URL_S3"])
    return client.get_object(Bucket=settings.STORAGE_BUCKET, Key=key)["Body"].read()
