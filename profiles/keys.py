"""The storage key of a user's avatar (SPEC §5.3)."""

from __future__ import annotations

from lego_api.core.storage import user_key_segment


def avatar_key(user_id: str) -> str:
    return f"avatars/{user_key_segment(user_id)}/avatar.webp"
