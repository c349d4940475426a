"""Avatars (SPEC §4.5 U3/U4, §5.3, §5.5): one 256x256 WebP per user at `avatars/{uid}/avatar.webp`, overwritten by
each upload, named by `profiles.avatar_url`. With a CDN, its URL carries `?v=<updatedAt epoch ms>` so that a new
avatar is not hidden behind the old one's cached copy.

Write order (core.uploads): every check and the processing first, writing nothing; then, in one transaction, the
row and last the object. A new object is deleted again if the upload fails (commit included); an object that
replaced the user's previous avatar is left, since the row still names its key. The orphan sweep asks
`avatar_referenced_keys` about what is under `avatars/`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from lego_api.core import storage
from lego_api.core.cache import bump
from lego_api.core.images import process_square_image
from lego_api.core.uploads import WEBP_MIME_TYPE, check_part, delete_after_commit, undo_on_failure
from profiles.file_kinds import AVATAR
from profiles.keys import avatar_key
from profiles.models import Profile
from profiles.services import PROFILE_FAMILY, profile_row

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

KEY_PREFIX = "avatars/"
AVATAR_SIZE = 256


def avatar_url(profile: Profile, *, request: HttpRequest | None = None) -> str | None:
    """The readable URL of the profile's avatar (SPEC §5.3), with `?v=<updatedAt epoch ms>` behind a CDN."""
    value = profile.avatar_url
    url = storage.render_url(value, request=request)
    if url and settings.MEDIA_CDN_DOMAIN and not value.startswith(("http://", "https://")):
        url = f"{url}?v={int(profile.updated_at.timestamp() * 1000)}"
    return url


def avatar_upload(*, user_id: str, upload: UploadedFile, field: str) -> Profile:
    """U3: check the file (avatar kind, 2 MB), crop and encode it, then store it and point the row at it; bump
    profile. Raises the §5.2 errors on `field` before anything is written."""
    check_part(AVATAR, upload, field=field)
    processed = process_square_image(upload, size=AVATAR_SIZE, field=field)
    key = avatar_key(user_id)
    with undo_on_failure() as writes, transaction.atomic():
        row = profile_row(user_id, lock=True)  # one upload at a time per user: the object and the row agree
        replacing = row.avatar_url == key
        row.avatar_url = key
        row.save(update_fields=["avatar_url", "updated_at"])
        if replacing:  # the row names this key already: the new bytes stay even if the upload fails
            storage.save_bytes(key, processed.data, content_type=WEBP_MIME_TYPE)
        else:
            writes.save_webp(key, processed.data)  # a new object: deleted again should the upload fail
        bump(PROFILE_FAMILY, user_id)
    return row


def avatar_delete(*, user_id: str) -> None:
    """U4: clear the row's avatar and delete its object after commit; bump profile. No avatar: nothing to do."""
    with transaction.atomic():
        row = Profile.objects.select_for_update().filter(user_id=user_id).first()
        if row is None or not row.avatar_url:
            return
        previous = row.avatar_url
        row.avatar_url = None
        row.save(update_fields=["avatar_url", "updated_at"])
        delete_after_commit([previous])  # an absolute URL is not ours: the deletion skips it
        bump(PROFILE_FAMILY, user_id)


def avatar_referenced_keys(keys: Sequence[str]) -> set[str]:
    """Which of these `avatars/` keys a profile row names (the orphan sweep's question, one query a page)."""
    return set(Profile.objects.filter(avatar_url__in=list(keys)).values_list("avatar_url", flat=True))
