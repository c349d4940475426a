"""Gallery fixtures shared by the image, album, feed, link and admin tests: rows made by the factories, and G1
uploads through the API (real SeaweedFS storage, processing inline)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lego_api.core.search import index_documents
from tests.core.test_images import encode, photo
from tests.factories import GalleryAlbumFactory, GalleryImageFactory


def photo_bytes(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), **params) -> bytes:
    """A real image with some detail (a gradient with noise) in Pillow format `fmt`."""
    return encode(photo(size), fmt, **params).getvalue()


def image_part(name: str = "castle.jpg", data: bytes | None = None, content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, photo_bytes() if data is None else data, content_type=content_type)


def indexed(*images):
    """Index factory-made images in the search server, as the after-commit task of a write would (waits for the
    refresh); returns the images."""
    index_documents("gallery", [str(image.pk) for image in images])
    return images


@pytest.fixture
def upload_image():
    """`upload_image(api, file=image_part(...), field="image", **text_fields)` -> G1's response."""

    def upload(api, file=None, *, field: str = "image", **fields):
        body = {field: file if file is not None else image_part(), **fields}
        return api.post("/api/images", body, format="multipart")

    return upload


@pytest.fixture
def image(owner):
    """A `ready` image row of `owner`'s (no objects in storage)."""
    return GalleryImageFactory(user_id=owner)


@pytest.fixture
def album(owner):
    """An album of `owner`'s."""
    return GalleryAlbumFactory(user_id=owner)
