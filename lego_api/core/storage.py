"""Object storage for uploads (SPEC §5.3, §5.4): S3 or the local file system; the only module that talks to either.

S3 is used when `STORAGE_BUCKET` is set (SeaweedFS stands in locally through `AWS_ENDPOINT_URL_S3`); otherwise
objects live under `MEDIA_ROOT`. Everything else in the project passes storage *keys* around and calls these helpers.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import mimetypes
import os
import posixpath
import re
import secrets
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage

from lego_api.core.files import OCTET_STREAM, clean_filename, extension_of

if TYPE_CHECKING:
    from django.http import HttpRequest

LOCAL_UPLOAD_SALT = "local-upload"
LOCAL_UPLOAD_PATH = "/local-uploads/"
MEDIA_DOWNLOAD_SALT = "media-download"
MEDIA_DOWNLOAD_PARAM = "download"
DEFAULT_EXPIRY = 3600
S3_DELETE_BATCH = 1000  # the DeleteObjects maximum
S3_LIST_PAGE = 1000  # the ListObjectsV2 maximum
HEALTH_TIMEOUT_SECONDS = 2
_SPOOL_MAX_BYTES = 8 * 1024 * 1024  # objects opened for reading stay in memory up to this size, then spill to disk
_COPY_CHUNK_BYTES = 1024 * 1024
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_USER_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

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


# --- Keys (SPEC §5.3) ------------------------------------------------------------------------------------------


def user_key_segment(user_id: str) -> str:
    """The `{uid}` of a key: the user id when it is key-safe, else its SHA-256 hex (Cognito subs are key-safe)."""
    user_id = str(user_id)
    if _USER_SEGMENT_RE.match(user_id):
        return user_id
    return hashlib.sha256(user_id.encode()).hexdigest()


def moc_file_key(user_id: str, moc_id: Any, file_id: Any, ext: str) -> str:
    return f"mocs/{user_key_segment(user_id)}/{moc_id}/{file_id}.{ext}"


def gallery_staging_key(user_id: str, image_id: Any, ext: str) -> str:
    return f"tmp/{user_key_segment(user_id)}/{image_id}.{ext}"


def gallery_image_key(user_id: str, image_id: Any) -> str:
    return f"images/{user_key_segment(user_id)}/{image_id}.webp"


def gallery_thumbnail_key(user_id: str, image_id: Any) -> str:
    return f"images/{user_key_segment(user_id)}/thumbnails/{image_id}.webp"


def wishlist_image_key(user_id: str, item_id: Any, version: str | None = None) -> str:
    """`{v}` is new on every upload, so a replaced image never shares a URL (or a CDN entry) with the old one."""
    return f"wishlist/{user_key_segment(user_id)}/{item_id}-{version or secrets.token_hex(4)}.webp"


def avatar_key(user_id: str) -> str:
    return f"avatars/{user_key_segment(user_id)}/avatar.webp"


# --- Configuration ------------------------------------------------------------------------------------------------


def uses_s3() -> bool:
    return bool(getattr(settings, "STORAGE_BUCKET", None))


def _bucket() -> str:
    return settings.STORAGE_BUCKET


def _expiry(name: str) -> int:
    return int(getattr(settings, name, None) or DEFAULT_EXPIRY)


def _server_side_encryption() -> str | None:
    return getattr(settings, "S3_SERVER_SIDE_ENCRYPTION", "AES256") or None


# A hung S3 (or a partition) answers nothing: botocore's defaults (60 s reads, 4 attempts) held a request for
# 4 minutes. Every call now fails within ATTEMPTS x (CONNECT + READ) = 14 s, so a failed write and the delete that
# undoes it fit in API Gateway's 29 s. Timeouts bound each socket operation, not a whole transfer, so a 50 MB
# PutObject is not cut short by them. Settings of the same names override them (the fault suite shortens them).
S3_CONNECT_TIMEOUT = 2
S3_READ_TIMEOUT = 5
S3_MAX_ATTEMPTS = 2  # one retry: S3's occasional 500/503 SlowDown


@functools.lru_cache(maxsize=8)
def _build_client(
    region: str | None,
    endpoint_url: str | None,
    health: bool,
    timeouts: tuple[float, float, int] = (S3_CONNECT_TIMEOUT, S3_READ_TIMEOUT, S3_MAX_ATTEMPTS),
) -> Any:
    # Keyed by configuration, so tests that override the settings get a matching client, and a warm Lambda
    # reuses one client (and its connection pool) across requests. Presigning is local computation.
    if health:
        # The health check must answer within its 2 s budget: short timeouts and no retries.
        tuning: dict[str, Any] = {
            "connect_timeout": HEALTH_TIMEOUT_SECONDS,
            "read_timeout": HEALTH_TIMEOUT_SECONDS,
            "retries": {"mode": "standard", "total_max_attempts": 1},
        }
    else:
        connect, read, attempts = timeouts
        tuning = {
            "connect_timeout": connect,
            "read_timeout": read,
            "retries": {"mode": "standard", "total_max_attempts": attempts},
        }
    config = Config(
        signature_version="s3v4",
        # S3-compatible servers (SeaweedFS) are addressed by path; AWS by virtual host, as django-storages does.
        s3={"addressing_style": "path" if endpoint_url else "virtual"},
        **tuning,
    )
    session = boto3.session.Session()  # a fresh session: boto3's default session is not thread-safe to build on
    return session.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)


def _client(*, health: bool = False) -> Any:
    timeouts = (
        getattr(settings, "S3_CONNECT_TIMEOUT", S3_CONNECT_TIMEOUT),
        getattr(settings, "S3_READ_TIMEOUT", S3_READ_TIMEOUT),
        getattr(settings, "S3_MAX_ATTEMPTS", S3_MAX_ATTEMPTS),
    )
    return _build_client(
        getattr(settings, "AWS_REGION", None),
        getattr(settings, "AWS_ENDPOINT_URL_S3", None) or None,
        health,
        timeouts,
    )


def _is_not_found(error: ClientError) -> bool:
    response = error.response
    return (
        response.get("Error", {}).get("Code") in _NOT_FOUND_CODES
        or response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
    )


def _local_path(key: str) -> str | None:
    """The file-system path of a key, or None when the default storage has no paths (e.g. in-memory)."""
    try:
        return default_storage.path(key)  # safe_join: a key cannot escape MEDIA_ROOT
    except NotImplementedError:
        return None


def _absolute(path: str, request: HttpRequest | None) -> str:
    """An absolute URL for a path of this site: SITE_URL, else the request's host, else left relative."""
    if path.startswith(("http://", "https://")):
        return path
    site_url = getattr(settings, "SITE_URL", None)
    if site_url:
        return site_url.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


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


# --- Serving user files safely (SPEC §5.3) --------------------------------------------------------------------

# Key extension → the image type such an object is served inline with. A key's extension comes from the detected
# type (§5.3 `{ext}`), so the key alone says what an object is; every other object is served as a download.
_INLINE_IMAGE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
}
INLINE = "inline"


@dataclass(frozen=True)
class ServingHeaders:
    """The Content-Type and Content-Disposition an object is written and served with."""

    content_type: str
    content_disposition: str


def serving_headers(
    key: str, *, filename: str | None = None, mime_type: str | None = None, download: bool = False
) -> ServingHeaders:
    """How an object is served so that no browser runs it as active content (SPEC §5.3), decided by its key.

    Images (JPEG, PNG, WebP, HEIC keys) are inline with their image type (`mime_type` when it is one, e.g.
    image/heif), or an attachment when `download` (M13). Everything else is `application/octet-stream` and an
    attachment named `filename`, or the key's base name without one.
    """
    image_type = _INLINE_IMAGE_TYPES.get(extension_of(key))
    name = filename or posixpath.basename(key)
    if image_type is None:
        return ServingHeaders(OCTET_STREAM, attachment_disposition(name))
    if mime_type in _INLINE_IMAGE_TYPES.values():
        image_type = mime_type
    return ServingHeaders(image_type, attachment_disposition(name) if download else INLINE)


def local_file(key: str) -> str | None:
    """The path of the regular file stored at `key` on the file system, or None: never a directory, a hidden file
    (an upload being written) or anything outside the storage root (`..`, absolute keys, symlinks out of it)."""
    segments = key.split("/")
    if any(not segment or segment.startswith(".") or "\\" in segment or "\x00" in segment for segment in segments):
        return None
    root = _local_path("")
    if root is None:
        return None
    root = os.path.realpath(root)
    path = os.path.realpath(os.path.join(root, *segments))
    if not path.startswith(root + os.sep) or not os.path.isfile(path):
        return None
    return path


def media_download_name(key: str, token: str) -> str | None:
    """The download name a `/media/` URL's signed token gives `key`, or None when the token is not valid for it."""
    try:
        claims = signing.Signer(salt=MEDIA_DOWNLOAD_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("key") != key or not isinstance(claims.get("filename"), str):
        return None
    return claims["filename"]


# --- Writing and deleting ----------------------------------------------------------------------------------------


def _write_params(key: str, headers: ServingHeaders) -> dict[str, Any]:
    """PutObject / CopyObject parameters: the object's serving headers, and SSE-S3 (SPEC §5.3)."""
    params: dict[str, Any] = {
        "Bucket": _bucket(),
        "Key": key,
        "ContentType": headers.content_type,
        "ContentDisposition": headers.content_disposition,
    }
    if sse := _server_side_encryption():
        params["ServerSideEncryption"] = sse
    return params


def save_bytes(key: str, data: Data, *, content_type: str, filename: str | None = None) -> None:
    """Write an object at exactly `key` (replacing any existing one), from bytes or a binary file (from its start).

    `content_type` is the detected type and `filename` the client's name: on S3 the object is written with the
    headers `serving_headers` gives them (an image keeps its type; anything else becomes an octet-stream attachment).
    """
    body = _as_readable(data)
    if uses_s3():
        params = _write_params(key, serving_headers(key, filename=filename, mime_type=content_type))
        # One PutObject (≤ 5 GB; our files are ≤ 50 MB): no transfer-manager threads on Lambda.
        _client().put_object(Body=body, **params)
        return

    path = _local_path(key)
    if path is None:
        # A storage without paths: delete first, because Storage.save() would otherwise pick a new name.
        default_storage.delete(key)
        saved = default_storage.save(key, File(body, name=key))
        if saved != key:
            raise StorageError(f"Storage renamed {key!r} to {saved!r}")
        return

    # FileSystemStorage.save() never overwrites (it appends a suffix); write a temporary file next to the
    # target and rename it over, which also means readers never see a half-written object.
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(body, out, _COPY_CHUNK_BYTES)
        mode = getattr(default_storage, "file_permissions_mode", None)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def apply_serving_headers(key: str, *, filename: str | None = None, mime_type: str | None = None) -> None:
    """Give an object the client PUT itself (presigned, M10) the headers it is served with (SPEC §5.3).

    On S3 a non-image object is rewritten in place (CopyObject, `MetadataDirective: REPLACE`, SSE kept), since the
    PUT signed only its Content-Type; images keep the image type the PUT signed. The file system stores no headers
    (the `/media/` view decides them), so there is nothing to do there.
    """
    if not uses_s3():
        return
    headers = serving_headers(key, filename=filename, mime_type=mime_type)
    if headers.content_disposition == INLINE:
        return
    params = _write_params(key, headers)
    _client().copy_object(CopySource={"Bucket": _bucket(), "Key": key}, MetadataDirective="REPLACE", **params)


def delete_keys(keys: Iterable[str | None]) -> None:
    """Delete objects; a missing object is success. Empty values and absolute URLs (not ours) are skipped."""
    unique = list(dict.fromkeys(key for key in keys if key and not key.startswith(("http://", "https://"))))
    if not unique:
        return
    if not uses_s3():
        for key in unique:
            default_storage.delete(key)
        return

    client, failed = _client(), []
    for start in range(0, len(unique), S3_DELETE_BATCH):
        batch = unique[start : start + S3_DELETE_BATCH]
        response = client.delete_objects(
            Bucket=_bucket(), Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        failed += [f"{error.get('Key')}: {error.get('Code')}" for error in response.get("Errors", [])]
    if failed:
        raise StorageError(f"Could not delete {len(failed)} object(s): {', '.join(failed[:10])}")


# --- Reading ---------------------------------------------------------------------------------------------------


def head(key: str) -> ObjectInfo | None:
    """Size and Content-Type of an object, or None when it does not exist.

    The file system keeps no Content-Type: it is guessed from the key's extension there.
    """
    if uses_s3():
        try:
            response = _client().head_object(Bucket=_bucket(), Key=key)
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise
        return ObjectInfo(size=int(response["ContentLength"]), content_type=response.get("ContentType"))

    path = _local_path(key)
    if path is None:
        if not default_storage.exists(key):
            return None
        return ObjectInfo(size=default_storage.size(key), content_type=mimetypes.guess_type(key)[0])
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return None
    return ObjectInfo(size=size, content_type=mimetypes.guess_type(key)[0])


def read_head(key: str, n: int = 8192) -> bytes:
    """The first `n` bytes of an object (fewer when it is shorter); FileNotFoundError when it does not exist."""
    if uses_s3():
        try:
            response = _client().get_object(Bucket=_bucket(), Key=key, Range=f"bytes=0-{n - 1}")
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

    with open_object(key) as file:
        return file.read(n)


def open_object(key: str) -> IO[bytes]:
    """A seekable binary file with the object's content (for parsing or Pillow); close it when done.

    S3 objects are downloaded into a spooled temporary file (memory up to 8 MB, then disk).
    FileNotFoundError when the object does not exist.
    """
    if uses_s3():
        try:
            response = _client().get_object(Bucket=_bucket(), Key=key)
        except ClientError as error:
            if _is_not_found(error):
                raise FileNotFoundError(key) from error
            raise
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX_BYTES)  # noqa: SIM115 - returned to the caller
        body = response["Body"]
        try:
            for chunk in body.iter_chunks(_COPY_CHUNK_BYTES):
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        finally:
            body.close()
        spool.seek(0)
        return spool

    path = _local_path(key)
    if path is None:
        if not default_storage.exists(key):
            raise FileNotFoundError(key)
        return default_storage.open(key, "rb")
    return open(path, "rb")


# --- Listing ---------------------------------------------------------------------------------------------------


def list_objects(prefix: str, *, page_size: int = S3_LIST_PAGE) -> Iterator[list[StoredObject]]:
    """The objects stored under the key `prefix` with their last-modified times, in key order, in pages of at most
    `page_size` (≤ 1000, S3's page) so that a caller can handle a page at a time (the orphan sweep, SPEC §7.3).

    On the file system, hidden files and directories are skipped: `.upload-*` files are writes in progress that
    `save_bytes` renames into place, and nothing the API writes has a hidden name.
    """
    if not 1 <= page_size <= S3_LIST_PAGE:
        raise ValueError(f"page_size must be between 1 and {S3_LIST_PAGE}")
    if uses_s3():
        paginator = _client().get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=_bucket(), Prefix=prefix, PaginationConfig={"PageSize": page_size})
        for page in pages:
            objects = [StoredObject(item["Key"], item["LastModified"]) for item in page.get("Contents", [])]
            if objects:
                yield objects
        return

    page: list[StoredObject] = []
    for key in _walk_keys("", prefix):
        page.append(StoredObject(key, default_storage.get_modified_time(key)))
        if len(page) == page_size:
            yield page
            page = []
    if page:
        yield page


def _walk_keys(directory: str, prefix: str) -> Iterator[str]:
    """Keys of the default storage's files under `directory` that start with `prefix`, in key order (a directory
    `d` sorts as `d/`), entering only directories that can hold such keys; hidden names are skipped."""
    try:
        directories, files = default_storage.listdir(directory)
    except FileNotFoundError:
        return
    base = f"{directory}/" if directory else ""
    entries = [(f"{base}{name}/", True) for name in directories if not name.startswith(".")]
    entries += [(f"{base}{name}", False) for name in files if not name.startswith(".")]
    for key, is_directory in sorted(entries):
        if is_directory:
            if key.startswith(prefix) or prefix.startswith(key):
                yield from _walk_keys(key.removesuffix("/"), prefix)
        elif key.startswith(prefix):
            yield key


# --- URLs ------------------------------------------------------------------------------------------------------


def presigned_upload(key: str, *, content_type: str, max_bytes: int, request: HttpRequest | None = None) -> dict:
    """Where and how the client PUTs a file (SPEC §5.4 step 1): a presigned S3 PUT, or C5 on the file system.

    The S3 URL signs Content-Type, so the object gets exactly that type. It does not sign a size: M10 checks the
    stored size against the declaration. SSE is not signed either (the client would have to send the header);
    S3 encrypts new objects with SSE-S3 by default.
    """
    expires_in = _expiry("UPLOAD_URL_EXPIRY")
    if uses_s3():
        url = _client().generate_presigned_url(
            "put_object",
            Params={"Bucket": _bucket(), "Key": key, "ContentType": content_type},
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
    else:
        token = signing.dumps({"key": key, "contentType": content_type, "maxBytes": max_bytes}, salt=LOCAL_UPLOAD_SALT)
        url = _absolute(f"{LOCAL_UPLOAD_PATH}{token}", request)
    return {"uploadUrl": url, "method": "PUT", "headers": {"Content-Type": content_type}, "expiresIn": expires_in}


def render_url(value: str | None, *, request: HttpRequest | None = None, filename: str | None = None) -> str | None:
    """The readable URL of a file reference (SPEC §5.3 "Rendering a file reference"); cheap enough for every row.

    http(s) values are returned unchanged; a key becomes a CDN URL when `MEDIA_CDN_DOMAIN` is set, else a
    presigned S3 GET, else the absolute media URL. S3 and media URLs carry the serving headers of §5.3: an image
    inline, anything else a download named `filename` (the key's base name when the caller has no name).
    """
    if not value:
        return None
    if value.startswith(("http://", "https://")):
        return value
    cdn_domain = getattr(settings, "MEDIA_CDN_DOMAIN", None)
    if cdn_domain:
        base = cdn_domain if cdn_domain.startswith(("http://", "https://")) else f"https://{cdn_domain}"
        return f"{base.rstrip('/')}/{quote(value)}"
    headers = serving_headers(value, filename=filename)
    if uses_s3():
        return _presigned_get(value, headers, _expiry("PRESIGNED_URL_EXPIRY"))
    return _media_url(value, request, download_name=filename if headers.content_disposition != INLINE else None)


def _presigned_get(key: str, headers: ServingHeaders, expires_in: int) -> str:
    """A presigned GET whose response headers are overridden (and signed), whatever the object was stored with."""
    return _client().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": _bucket(),
            "Key": key,
            "ResponseContentType": headers.content_type,
            "ResponseContentDisposition": headers.content_disposition,
        },
        ExpiresIn=expires_in,
    )


def _media_url(key: str, request: HttpRequest | None, *, download_name: str | None = None) -> str:
    """The absolute `/media/` URL of a key; a download name travels signed (bound to the key), so nobody can make
    the API's origin offer someone's file under a name of their choosing."""
    media_url = getattr(settings, "MEDIA_URL", None) or "/media/"
    if not media_url.endswith("/"):
        media_url += "/"
    query = ""
    if download_name:
        token = signing.Signer(salt=MEDIA_DOWNLOAD_SALT).sign_object({"key": key, "filename": download_name})
        query = "?" + urlencode({MEDIA_DOWNLOAD_PARAM: token})
    return _absolute(f"{media_url}{quote(key)}{query}", request)


def download_url(
    key: str, *, filename: str, mime_type: str, request: HttpRequest | None = None
) -> tuple[str, int | None]:
    """M13: a presigned GET that downloads as `filename` (an image with its `mime_type`, anything else as
    octet-stream), and its lifetime in seconds. With the file system it is the media URL, and the lifetime is None.
    """
    if not uses_s3():
        return _media_url(key, request, download_name=filename), None
    expires_in = _expiry("DOWNLOAD_URL_EXPIRY")
    headers = serving_headers(key, filename=filename, mime_type=mime_type, download=True)
    return _presigned_get(key, headers, expires_in), expires_in


def attachment_disposition(filename: str) -> str:
    """`attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266 / RFC 5987)."""
    name = clean_filename(filename)  # no control characters: nothing can break out of the header
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r'[^\x20-\x7e]|["\\%]', "_", ascii_name).strip()
    extension = extension_of(name)
    if not ascii_name.removesuffix(f".{extension}" if extension else "").strip(" ._"):
        ascii_name = f"file.{extension}" if extension and extension.isascii() else "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- Health ----------------------------------------------------------------------------------------------------


def check_storage() -> None:
    """Raise when storage is unusable (SPEC §7.1): S3 HeadBucket, or a writable MEDIA_ROOT."""
    if uses_s3():
        _client(health=True).head_bucket(Bucket=_bucket())
        return
    root = settings.MEDIA_ROOT
    os.makedirs(root, exist_ok=True)
    # os.access() can be wrong (read-only mounts, ACLs); creating a file is the real test.
    with tempfile.NamedTemporaryFile(dir=root, prefix=".health-"):
        pass
