"""Storage operations on S3, through the django-storages backend of `STORAGES` (`backends.S3Storage`) and that
backend's own boto3 client: writes, reads and presigned GETs go through the storage (`save`, `open`, `url`); what
Django's Storage API has no verb for (a presigned PUT, HEAD with the stored type, a ranged GET, CopyObject, deletes
in batches of 1000, a paged listing, HeadBucket) goes through `storage.connection.meta.client`. No other S3 client
exists, so there is one S3 configuration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from botocore.exceptions import ClientError

from lego_api.core.storage.backends import ObjectContent, S3Storage
from lego_api.core.storage.base import S3_DELETE_BATCH, ObjectInfo, StorageError, StoredObject
from lego_api.core.storage.serving import ServingHeaders

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def client(storage: S3Storage) -> Any:
    """The storage's boto3 client (one per storage and thread, as django-storages keeps its connections)."""
    return storage.connection.meta.client


def close(storage: S3Storage) -> None:
    """Close the connection pools of the clients the calling thread made for `storage` (the next use makes new ones
    once the storage itself is made again)."""
    for connections in (storage._connections, storage._unsigned_connections):
        connection = getattr(connections, "connection", None)
        if connection is not None:
            connection.meta.client.close()
            connections.connection = None


def _is_not_found(error: ClientError) -> bool:
    response = error.response
    return (
        response.get("Error", {}).get("Code") in _NOT_FOUND_CODES
        or response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
    )


def save(storage: S3Storage, content: ObjectContent) -> None:
    """Write the object at exactly `content.name`, replacing any (the backend is configured to overwrite)."""
    saved = storage.save(content.name, content)
    if saved != content.name:
        raise StorageError(f"Storage renamed {content.name!r} to {saved!r}")


def rewrite_headers(storage: S3Storage, key: str, headers: ServingHeaders) -> None:
    """Give a stored object these headers in place (CopyObject onto itself, `MetadataDirective: REPLACE`), keeping
    the configured object parameters (SSE-S3)."""
    params = {
        **storage.get_object_parameters(key),
        "ContentType": headers.content_type,
        "ContentDisposition": headers.content_disposition,
    }
    source = {"Bucket": storage.bucket_name, "Key": key}
    client(storage).copy_object(
        Bucket=storage.bucket_name, Key=key, CopySource=source, MetadataDirective="REPLACE", **params
    )


def delete(storage: S3Storage, keys: list[str]) -> None:
    """DeleteObjects in batches of 1000; a missing object is success, an object S3 could not delete is reported."""
    failed: list[str] = []
    for start in range(0, len(keys), S3_DELETE_BATCH):
        batch = keys[start : start + S3_DELETE_BATCH]
        response = client(storage).delete_objects(
            Bucket=storage.bucket_name, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        failed += [f"{error.get('Key')}: {error.get('Code')}" for error in response.get("Errors", [])]
    if failed:
        raise StorageError(f"Could not delete {len(failed)} object(s): {', '.join(failed[:10])}")


def head(storage: S3Storage, key: str) -> ObjectInfo | None:
    try:
        response = client(storage).head_object(Bucket=storage.bucket_name, Key=key)
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise
    return ObjectInfo(size=int(response["ContentLength"]), content_type=response.get("ContentType"))


def read_head(storage: S3Storage, key: str, n: int) -> bytes:
    """One ranged GET of the first `n` bytes."""
    try:
        response = client(storage).get_object(Bucket=storage.bucket_name, Key=key, Range=f"bytes=0-{n - 1}")
    except ClientError as error:
        if _is_not_found(error):
            raise FileNotFoundError(key) from error
        if error.response.get("Error", {}).get("Code") == "InvalidRange":  # a zero-byte object
            return b""
        raise
    body = response["Body"]  # a StreamingBody; its context manager yields the raw stream, so close by hand
    try:
        return body.read(n)
    finally:
        body.close()


def open_object(storage: S3Storage, key: str) -> IO[bytes]:
    """The backend's S3File, read into a spooled temporary file (memory up to the configured `max_memory_size`, then
    disk) on first use; FileNotFoundError when the object does not exist."""
    return storage.open(key, "rb")


def list_pages(storage: S3Storage, prefix: str, page_size: int) -> Iterator[list[StoredObject]]:
    paginator = client(storage).get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=storage.bucket_name, Prefix=prefix, PaginationConfig={"PageSize": page_size})
    for page in pages:
        objects = [StoredObject(item["Key"], item["LastModified"]) for item in page.get("Contents", [])]
        if objects:
            yield objects


def presigned_put(storage: S3Storage, key: str, *, content_type: str, expires_in: int) -> str:
    """A PUT URL that signs Content-Type only: the object gets exactly that type. A size is not signed (M10 checks
    the stored size against the declaration), nor SSE (the client would have to send the header; S3 encrypts new
    objects with SSE-S3 by default)."""
    return client(storage).generate_presigned_url(
        "put_object",
        Params={"Bucket": storage.bucket_name, "Key": key, "ContentType": content_type},
        ExpiresIn=expires_in,
        HttpMethod="PUT",
    )


def presigned_get(storage: S3Storage, key: str, headers: ServingHeaders, *, expires_in: int | None = None) -> str:
    """A GET URL whose response headers are overridden (and signed), whatever the object was stored with; valid
    `expires_in` seconds, or the storage's `querystring_expire` (PRESIGNED_URL_EXPIRY)."""
    parameters = {
        "ResponseContentType": headers.content_type,
        "ResponseContentDisposition": headers.content_disposition,
    }
    return storage.url(key, parameters=parameters, expire=expires_in)


def check(storage: S3Storage) -> None:
    """HeadBucket (SPEC §7.1), with the client of `storage` (the health storage: short timeouts, no retry)."""
    client(storage).head_bucket(Bucket=storage.bucket_name)
