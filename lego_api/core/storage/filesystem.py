"""Storage operations on the file system: Django's FileSystemStorage (`STORAGES["default"]` without a bucket, under
MEDIA_ROOT), the local stand-in for S3 (SPEC §5.3). C5 (`core/local_uploads.py`) stands in for presigned PUTs and
`/media/` (`core/media.py`) for GETs; neither stores headers, the `/media/` view decides them from the key.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO

from django.core.files.storage import FileSystemStorage

from lego_api.core.storage.base import ObjectInfo, StoredObject

_COPY_CHUNK_BYTES = 1024 * 1024
IN_PROGRESS_PREFIX = ".upload-"  # a write not yet renamed into place: hidden, so never listed nor served


def save(storage: FileSystemStorage, key: str, body: IO[bytes]) -> None:
    """Write `body` at exactly `key`, replacing any file there.

    FileSystemStorage.save() never overwrites (it appends a suffix), so the bytes go to a hidden temporary file next
    to the target that is renamed over it: readers never see a half-written object.
    """
    path = storage.path(key)  # safe_join: a key cannot escape MEDIA_ROOT
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=IN_PROGRESS_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(body, out, _COPY_CHUNK_BYTES)
        if storage.file_permissions_mode is not None:
            os.chmod(temporary, storage.file_permissions_mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def delete(storage: FileSystemStorage, keys: list[str]) -> None:
    for key in keys:
        storage.delete(key)  # a missing file is success


def head(storage: FileSystemStorage, key: str) -> ObjectInfo | None:
    """The file system keeps no Content-Type: it is guessed from the key's extension."""
    try:
        size = storage.size(key)
    except FileNotFoundError:
        return None
    return ObjectInfo(size=size, content_type=mimetypes.guess_type(key)[0])


def read_head(storage: FileSystemStorage, key: str, n: int) -> bytes:
    with open_object(storage, key) as file:
        return file.read(n)


def open_object(storage: FileSystemStorage, key: str) -> IO[bytes]:
    return storage.open(key, "rb")


def list_pages(storage: FileSystemStorage, prefix: str, page_size: int) -> Iterator[list[StoredObject]]:
    """Hidden files and directories are skipped: `.upload-*` files are writes in progress, and nothing the API
    writes has a hidden name."""
    page: list[StoredObject] = []
    for key in _walk_keys(storage, "", prefix):
        page.append(StoredObject(key, storage.get_modified_time(key)))
        if len(page) == page_size:
            yield page
            page = []
    if page:
        yield page


def _walk_keys(storage: FileSystemStorage, directory: str, prefix: str) -> Iterator[str]:
    """Keys of the files under `directory` that start with `prefix`, in key order (a directory `d` sorts as `d/`),
    entering only directories that can hold such keys; hidden names are skipped."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    base = f"{directory}/" if directory else ""
    entries = [(f"{base}{name}/", True) for name in directories if not name.startswith(".")]
    entries += [(f"{base}{name}", False) for name in files if not name.startswith(".")]
    for key, is_directory in sorted(entries):
        if is_directory:
            if key.startswith(prefix) or prefix.startswith(key):
                yield from _walk_keys(storage, key.removesuffix("/"), prefix)
        elif key.startswith(prefix):
            yield key


def local_file(storage: FileSystemStorage, key: str) -> str | None:
    """The path of the regular file stored at `key`, or None: never a directory, a hidden file (an upload being
    written) or anything outside the storage root (`..`, absolute keys, symlinks out of it)."""
    segments = key.split("/")
    if any(not segment or segment.startswith(".") or "\\" in segment or "\x00" in segment for segment in segments):
        return None
    root = os.path.realpath(storage.location)
    path = os.path.realpath(os.path.join(root, *segments))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        return None
    return path


def check(storage: FileSystemStorage) -> None:
    """A writable storage root (SPEC §7.1); os.access() can be wrong (read-only mounts, ACLs), creating a file is
    the real test."""
    os.makedirs(storage.location, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=storage.location, prefix=".health-"):
        pass
