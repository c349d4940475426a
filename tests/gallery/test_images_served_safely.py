"""SPEC §5.3 "Serving user files safely" for gallery images: the API produced them, so they are written and served
inline as image/webp, on S3 (real SeaweedFS: the headers each object is written with, the presigned URLs G1, G2 and
G4 hand out) and on the file system (the `/media/` view), with the helpers the MOC serving tests use."""

from __future__ import annotations

import pytest
import requests

from gallery.models import GalleryImage
from tests.core.test_safe_serving import (
    INLINE,
    assert_safe_media_response,
    assert_stored,
    assert_written,
    media_get,
    media_root,  # noqa: F401 (a fixture)
    s3_requests_sent,
)
from tests.gallery.conftest import image_part, photo_bytes

pytestmark = pytest.mark.django_db(transaction=True)

WEBP = "image/webp"


def handed_out(api, data: dict) -> list[str]:
    """Every URL the API hands out for one image: G1's, G2's and G4's `imageUrl` and `thumbnailUrl`."""
    listed = next(item for item in api.get("/api/images").json()["data"] if item["id"] == data["id"])
    detail = api.get(f"/api/images/{data['id']}").json()["data"]
    return [source[name] for source in (data, listed, detail) for name in ("imageUrl", "thumbnailUrl")]


def test_s3_objects_are_written_inline_with_their_image_type(api, upload_image):
    with s3_requests_sent() as sent:
        data = upload_image(api, image_part("gate.png", photo_bytes("PNG"), "image/png")).json()["data"]

    row = GalleryImage.objects.get(pk=data["id"])
    [staging_write] = [
        request for request in sent if request.key.startswith("tmp/") and request.operation == "PutObject"
    ]
    assert staging_write.headers["content-type"] == "image/png"
    assert staging_write.headers["content-disposition"] == INLINE
    for key in (row.image_url, row.thumbnail_url):
        assert_written(sent, key, content_type=WEBP, disposition=INLINE)
        assert_stored(key, disposition=INLINE, image_type=WEBP)


def test_every_s3_url_shows_the_image_inline(api, upload_image):
    data = upload_image(api).json()["data"]

    for url in handed_out(api, data):
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        assert (response.headers["Content-Type"], response.headers["Content-Disposition"]) == (WEBP, INLINE)
        assert response.content[8:12] == b"WEBP"


def test_every_media_url_shows_the_image_inline(api, client, upload_image, media_root):  # noqa: F811
    data = upload_image(api).json()["data"]
    row = GalleryImage.objects.get(pk=data["id"])
    assert (media_root / row.image_url).is_file() and (media_root / row.thumbnail_url).is_file()
    assert not (media_root / "tmp").exists() or not any((media_root / "tmp").rglob("*.jpg"))

    for url in handed_out(api, data):
        response = media_get(client, url)
        assert_safe_media_response(response, content_type=WEBP, disposition=INLINE)
        assert b"".join(response.streaming_content)[8:12] == b"WEBP"
