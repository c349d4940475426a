"""Writing, reading, listing and deleting objects by key (SPEC §5.3, §7.3) in `STORAGES["default"]`: django-storages'
S3 backend when `STORAGE_BUCKET` is set (`s3.py`), else Django's FileSystemStorage under MEDIA_ROOT (`filesystem.py`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import IO, Any

from django.core.files.storage import Storage, default_storage, storages
from django.utils.functional import empty
from storages.backends.s3 import S3Storage

from lego_api.core.storage import filesystem, s3
from lego_api.core.storage.backends import ObjectContent
from lego_api.core.storage.base import S3_LIST_PAGE, Data, ObjectInfo, StoredObject
from lego_api.core.storage.serving import INLINE, serving_headers

HEALTH_STORAGE = "health"  # the S3 storage of the health check: the default's configuration, shorter timeouts


def default() -> Storage:
    return storages["default"]


def uses_s3() -> bool:
    return isinstance(default(), S3Storage)


def s3_client(alias: str = "default") -> Any:
    """The boto3 client of the S3 storage `alias` (the one configuration: endpoint, credentials, timeouts)."""
    return s3.client(storages[alias])


def reset_connections() -> None:
    """Close the S3 connections of the storages made so far and forget the storages: the next use makes them again
    from STORAGES (SnapStart: no socket goes into the snapshot, and a restored copy gets fresh ones)."""
    for storage in storages._storages.values():
        if isinstance(storage, S3Storage):
            s3.close(storage)
    storages._storages.clear()
    default_storage._wrapped = empty


def _operations() -> tuple[ModuleType, Storage]:
    """The default storage and the module of operations for its kind (`s3` or `filesystem`)."""
    storage = default()
    return (s3 if isinstance(storage, S3Storage) else filesystem), storage


def _as_readable(data: Data) -> IO[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(data))
    if _seekable(data):
        data.seek(0)
    return data


def _seekable(file: Any) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, ValueError):
        return hasattr(file, "seek")


def _stored_keys(keys: Iterable[str | None]) -> list[str]:
    """Keys to act on, once each: empty values and absolute URLs (not ours) are skipped."""
    return list(dict.fromkeys(key for key in keys if key and not key.startswith(("http://", "https://"))))


def save_bytes(key: str, data: Data, *, content_type: str, filename: str | None = None) -> None:
    """Write an object at exactly `key` (replacing any existing one), from bytes or a binary file (from its start).

    `content_type` is the detected type and `filename` the client's name: on S3 the object is written with the
    headers `serving_headers` gives them (an image keeps its type; anything else becomes an octet-stream attachment)
    and SSE-S3.
    """
    body = _as_readable(data)
    storage = default()
    if isinstance(storage, S3Storage):
        headers = serving_headers(key, filename=filename, mime_type=content_type)
        s3.save(storage, ObjectContent(body, key, headers))
    else:
        filesystem.save(storage, key, body)


def apply_serving_headers(key: str, *, filename: str | None = None, mime_type: str | None = None) -> None:
    """Give an object the client PUT itself (presigned, M10) the headers it is served with (SPEC §5.3).

    On S3 a non-image object is rewritten in place (CopyObject, `MetadataDirective: REPLACE`, SSE kept), since the
    PUT signed only its Content-Type; images keep the image type the PUT signed. The file system stores no headers
    (the `/media/` view decides them), so there is nothing to do there.
    """
    storage = default()
    if not isinstance(storage, S3Storage):
        return
    headers = serving_headers(key, filename=filename, mime_type=mime_type)
    if headers.content_disposition != INLINE:
        s3.rewrite_headers(storage, key, headers)


def delete_keys(keys: Iterable[str | None]) -> None:
    """Delete objects; a missing object is success. Empty values and absolute URLs (not ours) are skipped."""
    unique = _stored_keys(keys)
    if unique:
        operations, storage = _operations()
        operations.delete(storage, unique)


def head(key: str) -> ObjectInfo | None:
    """Size and Content-Type of an object, or None when it does not exist (the file system guesses the type from
    the key's extension)."""
    operations, storage = _operations()
    return operations.head(storage, key)


def read_head(key: str, n: int = 8192) -> bytes:
    """The first `n` bytes of an object (fewer when it is shorter); FileNotFoundError when it does not exist."""
    operations, storage = _operations()
    return operations.read_head(storage, key, n)


def open_object(key: str) -> IO[bytes]:
    """A seekable binary file with the object's content (for parsing or Pillow); close it when done.
    FileNotFoundError when the object does not exist."""
    operations, storage = _operations()
    return operations.open_object(storage, key)


def list_objects(prefix: str, *, page_size: int = S3_LIST_PAGE) -> Iterator[list[StoredObject]]:
    """The objects stored under the key `prefix` with their last-modified times, in key order, in pages of at most
    `page_size` (≤ 1000, S3's page) so that a caller can handle a page at a time (the orphan sweep, SPEC §7.3)."""
    if not 1 <= page_size <= S3_LIST_PAGE:
        raise ValueError(f"page_size must be between 1 and {S3_LIST_PAGE}")
    operations, storage = _operations()
    return operations.list_pages(storage, prefix, page_size)


def local_file(key: str) -> str | None:
    """The path of the regular file stored at `key` on the file system (for `/media/`), or None; always None on S3."""
    storage = default()
    return None if isinstance(storage, S3Storage) else filesystem.local_file(storage, key)


def check_storage() -> None:
    """Raise when storage is unusable (SPEC §7.1): S3 HeadBucket (with the health storage's short timeouts), or a
    writable MEDIA_ROOT."""
    storage = default()
    if isinstance(storage, S3Storage):
        s3.check(storages[HEALTH_STORAGE])
    else:
        filesystem.check(storage)
