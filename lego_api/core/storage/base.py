"""What every storage module shares: the error, what a HEAD and a listing answer, and S3's page sizes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO

S3_DELETE_BATCH = 1000  # the DeleteObjects maximum
S3_LIST_PAGE = 1000  # the ListObjectsV2 maximum

Data = bytes | bytearray | memoryview | IO[bytes]


class StorageError(Exception):
    """A storage operation failed in a way the caller should log or retry (e.g. some keys were not deleted)."""


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None


@dataclass(frozen=True)
class StoredObject:
    key: str
    last_modified: datetime  # timezone-aware
