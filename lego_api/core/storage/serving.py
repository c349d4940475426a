"""Serving user files safely (SPEC §5.3): the Content-Type and Content-Disposition every object is written and served
with, decided by its key, and the signed download names of `/media/` URLs."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from django.core import signing

from lego_api.core.files import OCTET_STREAM, clean_filename, extension_of

MEDIA_DOWNLOAD_SALT = "media-download"
MEDIA_DOWNLOAD_PARAM = "download"
INLINE = "inline"

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


def attachment_disposition(filename: str) -> str:
    """`attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266 / RFC 5987)."""
    name = clean_filename(filename)  # no control characters: nothing can break out of the header
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r'[^\x20-\x7e]|["\\%]', "_", ascii_name).strip()
    extension = extension_of(name)
    if not ascii_name.removesuffix(f".{extension}" if extension else "").strip(" ._"):
        ascii_name = f"file.{extension}" if extension and extension.isascii() else "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def media_download_token(key: str, filename: str) -> str:
    """The signed `download` parameter of a `/media/` URL: the name travels bound to the key, so nobody can make the
    API's origin offer someone's file under a name of their choosing."""
    return signing.Signer(salt=MEDIA_DOWNLOAD_SALT).sign_object({"key": key, "filename": filename})


def media_download_name(key: str, token: str) -> str | None:
    """The download name a `/media/` URL's signed token gives `key`, or None when the token is not valid for it."""
    try:
        claims = signing.Signer(salt=MEDIA_DOWNLOAD_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict) or claims.get("key") != key or not isinstance(claims.get("filename"), str):
        return None
    return claims["filename"]
