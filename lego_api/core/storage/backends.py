"""The storage backend of `STORAGES["default"]` with S3: django-storages' S3 backend, whose objects carry their
serving headers (SPEC §5.3). The file system needs no class of its own: it is Django's FileSystemStorage.

`settings.s3_storage()` is the one S3 configuration (bucket, region, endpoint, credentials, the client's timeouts,
SSE-S3); everything in `lego_api.core.storage` goes through the storage it configures and that storage's client.
"""

from __future__ import annotations

from typing import IO

from django.core.files import File
from storages.backends import s3

from lego_api.core.storage.serving import ServingHeaders


class ObjectContent(File):
    """The bytes to store at a key and the headers the object is served with (S3 stores them with the object; the
    file system stores none, the `/media/` view decides them)."""

    def __init__(self, file: IO[bytes], key: str, headers: ServingHeaders) -> None:
        super().__init__(file, name=key)
        self.content_type = headers.content_type  # what S3Storage writes as ContentType
        self.content_disposition = headers.content_disposition


class S3Storage(s3.S3Storage):
    """django-storages' S3 backend; `save()` of an `ObjectContent` also writes its Content-Disposition (the backend
    writes the content's `content_type` and the configured `object_parameters`, SSE-S3, itself)."""

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        disposition = getattr(content, "content_disposition", None)
        if disposition:
            params["ContentDisposition"] = disposition
        return params
