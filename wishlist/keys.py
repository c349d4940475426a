"""The storage keys of wishlist item images (SPEC §5.3)."""

from __future__ import annotations

import secrets
from typing import Any

from lego_api.core.storage import user_key_segment


def wishlist_image_key(user_id: str, item_id: Any, version: str | None = None) -> str:
    """`wishlist/{uid}/{itemId}-{v}.webp`: `{v}` is new on every upload, so a replaced image never shares a URL (or a
    CDN entry) with the old one."""
    return f"wishlist/{user_key_segment(user_id)}/{item_id}-{version or secrets.token_hex(4)}.webp"
