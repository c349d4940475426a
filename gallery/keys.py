"""The storage keys of gallery images (SPEC §5.3): the uploaded original while it waits for processing, then the
WebP image and its thumbnail."""

from __future__ import annotations

from typing import Any

from lego_api.core.storage import user_key_segment


def gallery_staging_key(user_id: str, image_id: Any, ext: str) -> str:
    """`tmp/{uid}/{imageId}.{ext}`: deleted after processing (and expired by the bucket's `tmp/` lifecycle rule)."""
    return f"tmp/{user_key_segment(user_id)}/{image_id}.{ext}"


def gallery_image_key(user_id: str, image_id: Any) -> str:
    return f"images/{user_key_segment(user_id)}/{image_id}.webp"


def gallery_thumbnail_key(user_id: str, image_id: Any) -> str:
    return f"images/{user_key_segment(user_id)}/thumbnails/{image_id}.webp"
