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
import re
import secrets
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage

from lego_api.core.files import clean_filename, extension_of

if TYPE_CHECKING:
    from django.http import HttpRequest

LOCAL_UPLOAD_SALT = "local-upload"
LOCAL_UPLOAD_PATH = "/local-uploads/"
DEFAULT_EXPIRY = 3600
S3_DELETE_BATCH = 1000  # the DeleteObjects maximum
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


@functools.lru_cache(maxsize=8)
def _build_client(region: str | None, endpoint_url: str | None, health: bool) -> Any:
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
        tuning = {"connect_timeout": 5, "read_timeout": 60, "retries": {"mode": "standard", "max_attempts": 3}}
    config = Config(
        signature_version="s3v4",
        # S3-compatible servers (SeaweedFS) are addressed by path; AWS by virtual host, as django-storages does.
        s3={"addressing_style": "path" if endpoint_url else "virtual"},
        **tuning,
    )
    session = boto3.session.Session()  # a fresh session: boto3's default session is not thread-safe to build on
    return session.client("s3", region_name=region, endpoint_url=endpoint_url, config=config)


def _client(*, health: bool = False) -> Any:
    return _build_client(
        getattr(settings, "AWS_REGION", None), getattr(settings, "AWS_ENDPOINT_URL_S3", None) or None, health
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


# --- Writing and deleting ----------------------------------------------------------------------------------------


def save_bytes(key: str, data: Data, *, content_type: str) -> None:
    """Write an object at exactly `key` (replacing any existing one), from bytes or a binary file (from its start)."""
    body = _as_readable(data)
    if uses_s3():
        params: dict[str, Any] = {"Bucket": _bucket(), "Key": key, "Body": body, "ContentType": content_type}
        if sse := _server_side_encryption():
            params["ServerSideEncryption"] = sse
        # One PutObject (≤ 5 GB; our files are ≤ 50 MB): no transfer-manager threads on Lambda.
        _client().put_object(**params)
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


def render_url(value: str | None, *, request: HttpRequest | None = None) -> str | None:
    """The readable URL of a file reference (SPEC §5.3 "Rendering a file reference"); cheap enough for every row.

    http(s) values are returned unchanged; a key becomes a CDN URL when `MEDIA_CDN_DOMAIN` is set, else a
    presigned S3 GET, else the absolute media URL.
    """
    if not value:
        return None
    if value.startswith(("http://", "https://")):
        return value
    cdn_domain = getattr(settings, "MEDIA_CDN_DOMAIN", None)
    if cdn_domain:
        base = cdn_domain if cdn_domain.startswith(("http://", "https://")) else f"https://{cdn_domain}"
        return f"{base.rstrip('/')}/{quote(value)}"
    if uses_s3():
        return _client().generate_presigned_url(
            "get_object", Params={"Bucket": _bucket(), "Key": value}, ExpiresIn=_expiry("PRESIGNED_URL_EXPIRY")
        )
    return _media_url(value, request)


def _media_url(key: str, request: HttpRequest | None) -> str:
    media_url = getattr(settings, "MEDIA_URL", None) or "/media/"
    if not media_url.endswith("/"):
        media_url += "/"
    return _absolute(f"{media_url}{quote(key)}", request)


def download_url(
    key: str, *, filename: str, mime_type: str, request: HttpRequest | None = None
) -> tuple[str, int | None]:
    """M13: a presigned GET that downloads as `filename` with `mime_type`, and its lifetime in seconds.

    With the file system it is the media URL, and the lifetime is None.
    """
    if not uses_s3():
        return _media_url(key, request), None
    expires_in = _expiry("DOWNLOAD_URL_EXPIRY")
    url = _client().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": _bucket(),
            "Key": key,
            "ResponseContentDisposition": attachment_disposition(filename),
            "ResponseContentType": mime_type,
        },
        ExpiresIn=expires_in,
    )
    return url, expires_in


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
