"""MOC file rows (SPEC §3.5, §4.2 M12/M13, §7.3): the one function that creates a file row, the one thumbnail routine,
lookups, delete, download links, and the sweeper's stale-upload and referenced-key questions.

The uploads that create rows are in `mocs.services.multipart` (M7, M11, M17/M18) and `mocs.services.presigned`
(M8-M10); they write in the order `lego_api.core.uploads` describes. Objects a committed change makes obsolete are
deleted after commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lego_api.core import cache as response_cache
from lego_api.core import storage
from lego_api.core.exceptions import NotFound
from lego_api.core.uploads import delete_after_commit
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType
from mocs.services.mocs import moc_lock, moc_touch
from mocs.storage_keys import moc_file_key

if TYPE_CHECKING:
    from django.http import HttpRequest

MSG_FILE_NOT_FOUND = "File not found"


@dataclass(frozen=True)
class DownloadLink:
    """M13: the file and where to download it."""

    file: MocFile
    url: str
    expires_in: int | None
    expires_at: dt.datetime | None


# --- Rows -------------------------------------------------------------------------------------------------------------


def file_row_create(
    *,
    moc: Moc,
    file_type: str,
    extension: str,
    filename: str,
    mime_type: str,
    size: int,
    status: str = MocFileStatus.READY,
) -> MocFile:
    """A new file row of the MOC, with its key `mocs/{uid}/{mocId}/{fileId}.{extension}` (SPEC §5.3) in `file_url`;
    its object is the caller's to write. A ready thumbnail replaces the MOC's current one (`thumbnail_replace`).
    In the caller's transaction, under `moc_lock`."""
    file_id = uuid.uuid4()
    row = MocFile(
        id=file_id,
        moc=moc,
        file_type=file_type,
        file_url=moc_file_key(moc.user_id, moc.pk, file_id, extension),
        original_filename=filename,
        mime_type=mime_type,
        file_size=size,
        status=status,
    )
    if file_type == MocFileType.THUMBNAIL and status == MocFileStatus.READY:
        thumbnail_replace(moc=moc, key=row.file_url)
    row.save(force_insert=True)
    return row


def thumbnail_replace(*, moc: Moc, key: str) -> None:
    """Make the file at `key` the MOC's one thumbnail (M7, M10, M11): the other ready thumbnail rows are deleted, their
    objects after commit, and `thumbnailUrl` points at `key`. Call under `moc_lock`, before that file's row is a
    ready thumbnail (a partial unique index allows one per MOC)."""
    old = MocFile.objects.filter(moc_id=moc.pk, file_type=MocFileType.THUMBNAIL, status=MocFileStatus.READY)
    old_keys = list(old.exclude(file_url=key).values_list("file_url", flat=True))
    if old_keys:
        old.filter(file_url__in=old_keys).delete()
        delete_after_commit(old_keys)
    _point_thumbnail_at(moc, key)


def _point_thumbnail_at(moc: Moc, key: str | None) -> None:
    moc.thumbnail_url = key
    Moc.objects.filter(pk=moc.pk).update(thumbnail_url=key)


# --- M12 / M13: one file ----------------------------------------------------------------------------------------------


def moc_file_get(*, moc: Moc, file_id: UUID | str, include_pending: bool) -> MocFile:
    """A file of this MOC, or 404 `File not found` (a file of another MOC is not found either)."""
    files = MocFile.objects.filter(moc_id=moc.pk, pk=file_id)
    if not include_pending:
        files = files.filter(status=MocFileStatus.READY)
    file = files.first()
    if file is None:
        raise NotFound(MSG_FILE_NOT_FOUND)
    return file


def moc_file_delete(*, moc: Moc, file_id: UUID | str) -> UUID:
    """M12: delete a file (pending ones too); returns its id. Its parts lists keep existing with `file_id` null (the
    FK does it), the MOC's `thumbnailUrl` is cleared if it pointed at the file, and the object goes after commit."""
    with transaction.atomic():
        moc = moc_lock(moc_id=moc.pk)
        file = moc_file_get(moc=moc, file_id=file_id, include_pending=True)
        key, deleted_id = file.file_url, file.pk
        file.delete()
        if moc.thumbnail_url and moc.thumbnail_url == key:
            _point_thumbnail_at(moc, None)
        delete_after_commit([key])
        moc_touch(moc=moc)
    return deleted_id


def moc_file_download_link(*, file: MocFile, request: HttpRequest | None = None) -> DownloadLink:
    """M13: a presigned GET that downloads under the original name with the stored type (the media URL, with no
    expiry, on the file system)."""
    url, expires_in = storage.download_url(
        file.file_url, filename=file.original_filename, mime_type=file.mime_type, request=request
    )
    expires_at = timezone.now() + dt.timedelta(seconds=expires_in) if expires_in is not None else None
    return DownloadLink(file=file, url=url, expires_in=expires_in, expires_at=expires_at)


# --- Sweeper ---------------------------------------------------------------------------------------------------------


def files_delete_stale_pending(*, older_than: dt.datetime) -> int:
    """Delete `pending` files created before `older_than` (never finalized), with their objects after commit;
    bump each owner's mocs family. Returns how many rows went. Safe to re-run."""
    with transaction.atomic():
        stale = MocFile.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=MocFileStatus.PENDING, created_at__lt=older_than
        )
        rows = list(stale.values_list("pk", "file_url", "moc__user_id"))
        if not rows:
            return 0
        MocFile.objects.filter(pk__in=[pk for pk, _, _ in rows], status=MocFileStatus.PENDING).delete()
        delete_after_commit(key for _, key, _ in rows)
        for user_id in {user_id for _, _, user_id in rows}:
            response_cache.bump("mocs", user_id)
    return len(rows)


def files_referenced_keys(keys: Sequence[str]) -> set[str]:
    """Which of these `mocs/` keys a row references, a file row of any status or a MOC's thumbnail: the question the
    orphan sweep asks of each listing page (SPEC §7.3), answered in one query.

    Keys are `mocs/{uid}/{mocId}/{fileId}.{ext}` (§5.3), so rows are found by primary key (`file_url` has no index);
    a key of any other shape is looked up by value."""
    file_ids: set[UUID] = set()
    moc_ids: set[UUID] = set()
    other: list[str] = []
    for key in keys:
        ids = _ids_in_key(key)
        if ids is None:
            other.append(key)
        else:
            moc_ids.add(ids[0])
            file_ids.add(ids[1])
    files = MocFile.objects.filter(Q(pk__in=file_ids) | Q(file_url__in=other)).values_list("file_url", flat=True)
    thumbnails = Moc.objects.filter(Q(pk__in=moc_ids) | Q(thumbnail_url__in=other)).values_list(
        "thumbnail_url", flat=True
    )
    return set(files.union(thumbnails)) & set(keys)


def _ids_in_key(key: str) -> tuple[UUID, UUID] | None:
    """(mocId, fileId) of a `mocs/{uid}/{mocId}/{fileId}.{ext}` key, or None for a key of another shape."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "mocs":
        return None
    try:
        return UUID(parts[2]), UUID(parts[3].partition(".")[0])
    except ValueError:
        return None
