"""The URLs the API hands out for stored objects (SPEC §5.3 "Rendering a file reference", §5.4, M13): a CDN URL, a
presigned S3 GET or PUT from the default storage, or on the file system the `/media/` and C5 stand-ins."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core import signing

from lego_api.core.storage import s3
from lego_api.core.storage.objects import default, uses_s3
from lego_api.core.storage.serving import INLINE, MEDIA_DOWNLOAD_PARAM, media_download_token, serving_headers

if TYPE_CHECKING:
    from django.http import HttpRequest

LOCAL_UPLOAD_SALT = "local-upload"
LOCAL_UPLOAD_PATH = "/local-uploads/"
DEFAULT_EXPIRY = 3600


def _expiry(name: str) -> int:
    return int(getattr(settings, name, None) or DEFAULT_EXPIRY)


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


def _media_url(key: str, request: HttpRequest | None, *, download_name: str | None = None) -> str:
    """The absolute `/media/` URL of a key; a download name travels signed, bound to the key."""
    media_url = getattr(settings, "MEDIA_URL", None) or "/media/"
    if not media_url.endswith("/"):
        media_url += "/"
    query = ""
    if download_name:
        query = "?" + urlencode({MEDIA_DOWNLOAD_PARAM: media_download_token(key, download_name)})
    return _absolute(f"{media_url}{quote(key)}{query}", request)


def presigned_upload(key: str, *, content_type: str, max_bytes: int, request: HttpRequest | None = None) -> dict:
    """Where and how the client PUTs a file (SPEC §5.4 step 1): a presigned S3 PUT that signs Content-Type, or C5
    on the file system (a signed token carrying the key, the type and the size limit)."""
    expires_in = _expiry("UPLOAD_URL_EXPIRY")
    if uses_s3():
        url = s3.presigned_put(default(), key, content_type=content_type, expires_in=expires_in)
    else:
        token = signing.dumps({"key": key, "contentType": content_type, "maxBytes": max_bytes}, salt=LOCAL_UPLOAD_SALT)
        url = _absolute(f"{LOCAL_UPLOAD_PATH}{token}", request)
    return {"uploadUrl": url, "method": "PUT", "headers": {"Content-Type": content_type}, "expiresIn": expires_in}


def render_url(value: str | None, *, request: HttpRequest | None = None, filename: str | None = None) -> str | None:
    """The readable URL of a file reference (SPEC §5.3 "Rendering a file reference"); cheap enough for every row.

    http(s) values are returned unchanged; a key becomes a CDN URL when `MEDIA_CDN_DOMAIN` is set, else a
    presigned S3 GET (valid PRESIGNED_URL_EXPIRY, the storage's `querystring_expire`), else the absolute media URL.
    S3 and media URLs carry the serving headers of §5.3: an image inline, anything else a download named `filename`
    (the key's base name when the caller has no name).
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
        return s3.presigned_get(default(), value, headers)
    return _media_url(value, request, download_name=filename if headers.content_disposition != INLINE else None)


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
    return s3.presigned_get(default(), key, headers, expires_in=expires_in), expires_in
