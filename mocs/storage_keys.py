"""The storage keys of MOC files (SPEC §5.3): `mocs/{uid}/{mocId}/{fileId}.{ext}`, under this app's KEY_PREFIX."""

from __future__ import annotations

from typing import Any

from lego_api.core.storage import user_key_segment
from mocs.apps import KEY_PREFIX


def moc_file_key(user_id: str, moc_id: Any, file_id: Any, ext: str) -> str:
    return f"{KEY_PREFIX}{user_key_segment(user_id)}/{moc_id}/{file_id}.{ext}"
