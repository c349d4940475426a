"""`GET /media/{key}`: reads of file-system storage, the local stand-in for S3 GETs, served safely (SPEC §5.3).

Mounted only with file-system storage. Like a presigned S3 GET it needs no session: the URLs are handed out by
authenticated routes. No stored file is ever rendered as a page: images go out inline with their image type, every
other object as an `application/octet-stream` attachment, and every answer carries `X-Content-Type-Options: nosniff`
and `Content-Security-Policy: sandbox`. Directories are never listed, and nothing outside the storage root is read.
"""

from __future__ import annotations

import os

from django.http import FileResponse, HttpRequest, HttpResponse

from lego_api.core import storage
from lego_api.core.exceptions import Forbidden, NotFound
from lego_api.core.views import allow_methods

MSG_FILE_NOT_FOUND = "File not found"
MSG_INVALID_DOWNLOAD_TOKEN = "Invalid download token"


@allow_methods("GET")
def media_file(request: HttpRequest, path: str) -> HttpResponse:
    """The object at `path`, with the serving headers of SPEC §5.3; a signed `download` token names the download."""
    file_path = storage.local_file(path)
    if file_path is None:
        raise NotFound(MSG_FILE_NOT_FOUND)

    token = request.GET.get(storage.MEDIA_DOWNLOAD_PARAM)
    if token is None:
        headers = storage.serving_headers(path)
    else:
        name = storage.media_download_name(path, token)
        if name is None:
            raise Forbidden(MSG_INVALID_DOWNLOAD_TOKEN)
        headers = storage.serving_headers(path, filename=name, download=True)

    if request.method == "HEAD":
        response = HttpResponse(content_type=headers.content_type)
        response["Content-Length"] = str(os.path.getsize(file_path))
    else:
        file = open(file_path, "rb")  # noqa: SIM115 - the response closes it
        response = FileResponse(file, content_type=headers.content_type)
    response["Content-Disposition"] = headers.content_disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response
