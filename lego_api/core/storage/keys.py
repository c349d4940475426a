"""The `{uid}` segment every storage key starts its user part with (SPEC §5.3 "Key parts").

Core builds no app's keys: each app builds its own (`mocs/storage_keys.py`, `gallery/keys.py`, ...) from this rule.
"""

from __future__ import annotations

import hashlib
import re

_USER_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def user_key_segment(user_id: str) -> str:
    """The `{uid}` of a key: the user id when it is key-safe, else its SHA-256 hex (Cognito subs are key-safe)."""
    user_id = str(user_id)
    if _USER_SEGMENT_RE.match(user_id):
        return user_id
    return hashlib.sha256(user_id.encode()).hexdigest()
