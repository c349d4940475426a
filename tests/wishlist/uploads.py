"""Images for the W8 tests: real JPEGs made with Pillow, and the upload request."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

RED = (220, 20, 20)


def jpeg_bytes(size: tuple[int, int] = (64, 48), **params) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, RED).save(buffer, "JPEG", **params)
    return buffer.getvalue()


def upload_image(
    api,
    item_id,
    content: bytes | None = None,
    name: str = "photo.jpg",
    *,
    field: str = "image",
    content_type: str | None = None,
):
    """W8 with one file part (a 64x48 JPEG unless `content` is given)."""
    part = SimpleUploadedFile(
        name, jpeg_bytes() if content is None else content, content_type=content_type or "image/jpeg"
    )
    return api.post(f"/api/wishlist/{item_id}/image", {field: part}, format="multipart")
