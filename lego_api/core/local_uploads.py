"""C5 `PUT /local-uploads/{token}`: the file-system stand-in for a presigned S3 PUT (SPEC §4.1, §5.4).

Mounted only with file-system storage. The signed token is the credential, so there is no session, no CSRF
and no rate limit; errors are raised as `ApiError`s, which the middleware turns into the envelope.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from lego_api.core import storage
from lego_api.core.exceptions import Forbidden, MethodNotAllowed, PayloadTooLarge, UnsupportedMediaType

_READ_CHUNK_BYTES = 1024 * 1024
_SPOOL_MAX_BYTES = 8 * 1024 * 1024


def _load_token(token: str) -> dict[str, Any]:
    try:
        claims = signing.loads(
            token, salt=storage.LOCAL_UPLOAD_SALT, max_age=getattr(settings, "UPLOAD_URL_EXPIRY", None) or 3600
        )
    except signing.BadSignature:  # SignatureExpired is a subclass
        raise Forbidden("Invalid upload token") from None
    if not (
        isinstance(claims, dict)
        and isinstance(claims.get("key"), str)
        and isinstance(claims.get("contentType"), str)
        and isinstance(claims.get("maxBytes"), int)
    ):
        raise Forbidden("Invalid upload token")
    return claims


def _media_type(value: str) -> str:
    return value.strip().lower()


@csrf_exempt
def local_upload(request: HttpRequest, token: str) -> HttpResponse:
    """Write the raw body to the signed key, as S3 would for a presigned PUT: 200 with an empty body."""
    if request.method != "PUT":
        raise MethodNotAllowed(headers={"Allow": "PUT"})
    claims = _load_token(token)
    content_type, max_bytes = claims["contentType"], claims["maxBytes"]

    # S3 rejects a PUT whose Content-Type differs from the signed one; so does its stand-in.
    if _media_type(request.META.get("CONTENT_TYPE", "")) != _media_type(content_type):
        raise UnsupportedMediaType(f"Content-Type must be {content_type}")

    # Refuse early on the declared length, then read at most max_bytes + 1 so a lying client costs us nothing.
    try:
        declared_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared_length = 0
    if declared_length > max_bytes:
        raise PayloadTooLarge("Request body too large")

    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX_BYTES) as body:
        received = 0
        while received <= max_bytes:
            chunk = request.read(min(_READ_CHUNK_BYTES, max_bytes + 1 - received))
            if not chunk:
                break
            body.write(chunk)
            received += len(chunk)
        if received > max_bytes:
            raise PayloadTooLarge("Request body too large")
        storage.save_bytes(claims["key"], body, content_type=content_type)
    return HttpResponse(status=200)
