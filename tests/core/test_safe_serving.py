"""SPEC §5.3 "Serving user files safely", outside a browser (tests/core/test_browser.py opens the same URLs in
chromium): the headers every object is written with on S3 (real SeaweedFS) by M7, M11, M17/M18 and the M10 rewrite,
the response headers of every URL the API hands out, and the file-system `/media/` view.

SeaweedFS stores `application/octet-stream` as the type the key's extension implies (AWS S3 stores it as given), so
the Content-Type an object is written with is read from the request the app sent (botocore's `before-send` event,
which sees the request as it goes over the wire); Content-Disposition and SSE are read back with HeadObject.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from lego_api.core import storage
from mocs.models import MocFile
from tests.helpers import assert_error, file_system_storage, handed_out_urls
from tests.samples import CSV, PDF, html_csv_with_script, image_bytes, moc_fields, studio_bytes, xml_with_script
from tools.devstack import s3_client

pytestmark = pytest.mark.django_db(transaction=True)

OCTET_STREAM = "application/octet-stream"
INLINE = "inline"
# Nothing runs in these tests; the browser test points the beacon at a listener of its own.
SCRIPT_XML = xml_with_script("http://127.0.0.1:9/script-ran")
HTML_CSV = html_csv_with_script("http://127.0.0.1:9/script-ran")
PNG, JPEG, WEBP = image_bytes("PNG"), image_bytes("JPEG"), image_bytes("WEBP")
CAFE_XML = "Café wanted.xml"
CAFE_XML_DISPOSITION = "attachment; filename=\"Cafe wanted.xml\"; filename*=UTF-8''Caf%C3%A9%20wanted.xml"

# (fileType, filename, content, declared type, the `mimeType` the API reports)
NON_IMAGES = [
    ("instruction", "Coffee Truck.pdf", PDF, "application/pdf", "application/pdf"),
    ("instruction", "truck.io", studio_bytes(), OCTET_STREAM, "application/zip"),
    ("parts-list", "bricks.csv", CSV, "text/csv", "text/csv"),
    ("parts-list", "page.txt", HTML_CSV, "text/plain", "text/plain"),
    ("parts-list", "wanted.txt", SCRIPT_XML, "text/plain", "application/xml"),
    ("parts-list", CAFE_XML, SCRIPT_XML, "application/xml", "application/xml"),
]
IMAGES = [
    ("thumbnail", "cover.png", PNG, "image/png", "image/png"),
    ("gallery-image", "side.jpeg", JPEG, "image/jpeg", "image/jpeg"),
    ("gallery-image", "side.webp", WEBP, "image/webp", "image/webp"),
]


def attachment(filename: str) -> str:
    """The Content-Disposition of a download named `filename` (an ASCII name: its fallback is itself)."""
    return f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename, safe='')}"


def disposition_for(filename: str) -> str:
    return CAFE_XML_DISPOSITION if filename == CAFE_XML else attachment(filename)


def part(name: str, data: bytes, content_type: str = OCTET_STREAM) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def upload(api, moc, file_type: str, filename: str, data: bytes, declared: str = OCTET_STREAM) -> dict:
    """M11 with one file: the MocFile it answers."""
    body = {"file": part(filename, data, declared), "fileType": file_type}
    response = api.post(f"/api/mocs/{moc.id}/files", body, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["data"]


def key_of(file: dict) -> str:
    return MocFile.objects.get(pk=file["id"]).file_url


# --- S3: what objects are written with --------------------------------------------------------------------------


@dataclass(frozen=True)
class SentRequest:
    operation: str
    key: str
    headers: dict[str, str]


@contextlib.contextmanager
def s3_requests_sent() -> Iterator[list[SentRequest]]:
    """Every request the app's S3 client sends while the block runs, with its headers as they went out."""
    sent: list[SentRequest] = []
    bucket_prefix = f"/{settings.STORAGE_BUCKET}/"

    def record(request, event_name: str, **kwargs) -> None:
        headers = {name.lower(): (v.decode() if isinstance(v, bytes) else v) for name, v in request.headers.items()}
        key = unquote(urlsplit(request.url).path).removeprefix(bucket_prefix)
        sent.append(SentRequest(event_name.rsplit(".", 1)[-1], key, headers))

    events = storage.s3_client().meta.events  # the very client the app uses (the default storage's)
    events.register("before-send.s3", record)
    try:
        yield sent
    finally:
        events.unregister("before-send.s3", record)


def head_object(key: str) -> dict:
    return s3_client(os.environ["AWS_ENDPOINT_URL_S3"]).head_object(Bucket=settings.STORAGE_BUCKET, Key=key)


def assert_written(sent: list[SentRequest], key: str, *, content_type: str, disposition: str) -> SentRequest:
    """The one write of `key` (PutObject or CopyObject) carried these headers and SSE-S3."""
    [write] = [request for request in sent if request.key == key and request.operation in ("PutObject", "CopyObject")]
    assert write.headers["content-type"] == content_type
    assert write.headers["content-disposition"] == disposition
    assert write.headers["x-amz-server-side-encryption"] == "AES256"
    return write


def assert_stored(key: str, *, disposition: str | None, image_type: str | None = None) -> None:
    stored = head_object(key)
    assert stored.get("ContentDisposition") == disposition
    assert stored["ServerSideEncryption"] == "AES256"
    if image_type is not None:
        assert stored["ContentType"] == image_type


@pytest.mark.parametrize(
    ("file_type", "filename", "data", "declared", "mime_type"), NON_IMAGES, ids=[row[1] for row in NON_IMAGES]
)
def test_m11_writes_non_images_as_octet_stream_attachments(api, moc, file_type, filename, data, declared, mime_type):
    with s3_requests_sent() as sent:
        file = upload(api, moc, file_type, filename, data, declared)

    assert file["mimeType"] == mime_type  # the API still reports the detected type
    key = key_of(file)
    assert_written(sent, key, content_type=OCTET_STREAM, disposition=disposition_for(filename))
    assert_stored(key, disposition=disposition_for(filename))


@pytest.mark.parametrize(("file_type", "filename", "data", "declared", "mime_type"), IMAGES, ids=[r[1] for r in IMAGES])
def test_m11_writes_images_inline_with_their_type(api, moc, file_type, filename, data, declared, mime_type):
    with s3_requests_sent() as sent:
        file = upload(api, moc, file_type, filename, data, declared)

    key = key_of(file)
    assert_written(sent, key, content_type=mime_type, disposition=INLINE)
    assert_stored(key, disposition=INLINE, image_type=mime_type)


def test_m7_writes_non_images_as_attachments_and_images_inline(api):
    body = {
        **moc_fields(),
        "instructionsFile": part("Coffee Truck.pdf", PDF),
        "partsLists": part(CAFE_XML, SCRIPT_XML),
        "images": part("cover.png", PNG),
    }
    with s3_requests_sent() as sent:
        response = api.post("/api/mocs/with-files", body, format="multipart")

    assert response.status_code == 201, response.content
    files = {file["originalFilename"]: key_of(file) for file in response.json()["data"]["files"]}
    for filename in ("Coffee Truck.pdf", CAFE_XML):
        assert_written(sent, files[filename], content_type=OCTET_STREAM, disposition=disposition_for(filename))
        assert_stored(files[filename], disposition=disposition_for(filename))
    assert_written(sent, files["cover.png"], content_type="image/png", disposition=INLINE)
    assert_stored(files["cover.png"], disposition=INLINE, image_type="image/png")


@pytest.mark.parametrize("route", ["M17", "M18"])
def test_parts_list_upload_writes_an_attachment(api, moc, route):
    if route == "M17":
        path, body = f"/api/mocs/{moc.id}/upload-parts-list", {"file": part("wanted.txt", SCRIPT_XML, "text/plain")}
    else:
        path, body = (
            "/api/mocs/upload-parts-list",
            {"mocId": str(moc.id), "partsListFile": part("wanted.txt", SCRIPT_XML)},
        )
    with s3_requests_sent() as sent:
        response = api.post(path, body, format="multipart")

    assert response.status_code == 201, response.content
    key = key_of(response.json()["data"]["file"])
    assert_written(sent, key, content_type=OCTET_STREAM, disposition=attachment("wanted.txt"))
    assert_stored(key, disposition=attachment("wanted.txt"))


def test_m10_rewrites_presigned_non_images_in_place(api, moc):
    declared = [
        (CAFE_XML, "parts-list", SCRIPT_XML, "application/xml"),
        ("Coffee Truck.pdf", "instruction", PDF, "application/pdf"),
        ("bricks.csv", "parts-list", CSV, "text/csv"),
        ("cover.png", "thumbnail", PNG, "image/png"),
    ]
    entries = [
        {"filename": name, "fileType": file_type, "mimeType": OCTET_STREAM, "size": len(data)}
        for name, file_type, data, _ in declared
    ]
    response = api.post(f"/api/mocs/{moc.id}/files/initialize", {"files": entries}, format="json")
    assert response.status_code == 201, response.content
    uploads = response.json()["data"]["uploadUrls"]
    # M9 is unchanged for clients: each URL signs the Content-Type of its extension, and nothing else.
    assert [upload["headers"] for upload in uploads] == [{"Content-Type": signed} for *_, signed in declared]
    for upload, (_, _, data, _) in zip(uploads, declared, strict=True):
        put = requests.put(upload["uploadUrl"], data=data, headers=upload["headers"], timeout=10)
        assert put.status_code == 200, put.text
    keys = {upload["filename"]: MocFile.objects.get(pk=upload["fileId"]).file_url for upload in uploads}
    assert "ContentDisposition" not in head_object(keys[CAFE_XML])  # as the client's PUT left it

    with s3_requests_sent() as sent:
        finalized = api.post(
            f"/api/mocs/{moc.id}/finalize",
            {"uploadedFiles": [{"fileId": upload["fileId"], "success": True} for upload in uploads]},
            format="json",
        )

    assert finalized.status_code == 200, finalized.content
    non_images = [CAFE_XML, "Coffee Truck.pdf", "bricks.csv"]
    assert sorted(request.key for request in sent if request.operation == "CopyObject") == sorted(
        keys[name] for name in non_images
    )
    for name in non_images:
        copy = assert_written(sent, keys[name], content_type=OCTET_STREAM, disposition=disposition_for(name))
        assert copy.operation == "CopyObject"
        assert copy.headers["x-amz-metadata-directive"] == "REPLACE"
        assert unquote(copy.headers["x-amz-copy-source"]) == f"{settings.STORAGE_BUCKET}/{keys[name]}"
        assert_stored(keys[name], disposition=disposition_for(name))
    with storage.open_object(keys[CAFE_XML]) as rewritten:
        assert rewritten.read() == SCRIPT_XML
    # The image keeps the type its PUT signed; it is not rewritten.
    assert head_object(keys["cover.png"])["ContentType"] == "image/png"


# --- S3: every URL the API hands out ------------------------------------------------------------------------------


def assert_download(response: requests.Response, *, data: bytes, disposition: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == OCTET_STREAM
    assert response.headers["Content-Disposition"] == disposition
    assert response.content == data


@pytest.mark.parametrize(
    ("file_type", "filename", "data", "declared", "mime_type"), NON_IMAGES, ids=[row[1] for row in NON_IMAGES]
)
def test_every_s3_url_of_a_non_image_downloads_it(api, moc, file_type, filename, data, declared, mime_type):
    file = upload(api, moc, file_type, filename, data, declared)

    urls = handed_out_urls(api, moc.id, file)

    for label, url in urls.items():
        query = parse_qs(urlsplit(url).query)
        assert query["response-content-type"] == [OCTET_STREAM], label  # signed overrides, whatever is stored
        assert_download(requests.get(url, timeout=10), data=data, disposition=disposition_for(filename))


def test_every_s3_url_of_an_image_shows_it_inline_and_m13_downloads_it(api, moc):
    file = upload(api, moc, "thumbnail", "cover.png", PNG, "image/png")
    detail = api.get(f"/api/mocs/{moc.id}").json()["data"]
    [image] = detail["images"]
    urls = handed_out_urls(api, moc.id, file)
    inline_urls = [urls["MocFile fileUrl"], urls["MocDetail fileUrl"], detail["thumbnailUrl"], image["url"]]

    for url in inline_urls:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200
        assert (response.headers["Content-Type"], response.headers["Content-Disposition"]) == ("image/png", INLINE)
        assert response.content == PNG
    for url in (urls["M13 redirect"], urls["M13 json downloadUrl"]):
        response = requests.get(url, timeout=10)
        assert (response.headers["Content-Type"], response.headers["Content-Disposition"]) == (
            "image/png",
            attachment("cover.png"),
        )


# --- File system: the /media/ view ------------------------------------------------------------------------------


@pytest.fixture
def media_root(tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    with file_system_storage(root):
        yield root


def media_get(client, url: str, method: str = "get"):
    """Request a handed-out absolute media URL (http://testserver/media/...) from the app, with no credentials."""
    parts = urlsplit(url)
    assert parts.path.startswith("/media/"), url
    return getattr(client, method)(parts.path, parse_qs(parts.query))


def assert_safe_media_response(response, *, content_type: str, disposition: str) -> None:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize(
    ("file_type", "filename", "data", "declared", "mime_type"), NON_IMAGES, ids=[row[1] for row in NON_IMAGES]
)
def test_every_media_url_of_a_non_image_downloads_it(
    api, moc, client, media_root, file_type, filename, data, declared, mime_type
):
    file = upload(api, moc, file_type, filename, data, declared)
    assert (media_root / key_of(file)).read_bytes() == data

    for url in handed_out_urls(api, moc.id, file).values():
        response = media_get(client, url)
        assert_safe_media_response(response, content_type=OCTET_STREAM, disposition=disposition_for(filename))
        assert b"".join(response.streaming_content) == data


def test_every_media_url_of_an_image_shows_it_inline_and_m13_downloads_it(api, moc, client, media_root):
    file = upload(api, moc, "thumbnail", "cover.png", PNG, "image/png")
    detail = api.get(f"/api/mocs/{moc.id}").json()["data"]
    urls = handed_out_urls(api, moc.id, file)

    for url in (urls["MocFile fileUrl"], urls["MocDetail fileUrl"], detail["thumbnailUrl"], detail["images"][0]["url"]):
        response = media_get(client, url)
        assert_safe_media_response(response, content_type="image/png", disposition=INLINE)
        assert b"".join(response.streaming_content) == PNG
    for url in (urls["M13 redirect"], urls["M13 json downloadUrl"]):
        assert_safe_media_response(
            media_get(client, url), content_type="image/png", disposition=attachment("cover.png")
        )


def test_media_head_sends_the_headers_and_no_body(api, moc, client, media_root):
    file = upload(api, moc, "parts-list", "wanted.xml", SCRIPT_XML, "application/xml")

    response = media_get(client, file["fileUrl"], "head")

    assert_safe_media_response(response, content_type=OCTET_STREAM, disposition=attachment("wanted.xml"))
    assert response["Content-Length"] == str(len(SCRIPT_XML))
    assert response.content == b""


def test_media_without_a_download_name_uses_the_key(client, media_root):
    (media_root / "mocs").mkdir()
    (media_root / "mocs" / "list.xml").write_bytes(SCRIPT_XML)

    response = client.get("/media/mocs/list.xml")

    assert_safe_media_response(response, content_type=OCTET_STREAM, disposition=attachment("list.xml"))


@pytest.mark.parametrize("path", ["/media/", "/media/mocs", "/media/mocs/", "/media/mocs/owner/"])
def test_media_never_lists_a_directory(client, media_root, path):
    (media_root / "mocs" / "owner").mkdir(parents=True)
    (media_root / "mocs" / "owner" / "list.xml").write_bytes(SCRIPT_XML)

    assert_error(client.get(path), 404, "NOT_FOUND", "File not found")


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/mocs/..%2f..%2fsecret.txt",
        "/media/..%5csecret.txt",
        "/media//secret.txt",
        "/media/%2Fetc%2Fpasswd",
        "/media/outside.txt",  # a symlink out of the storage root
        "/media/mocs/.upload-abc123",  # a file still being written
    ],
)
def test_media_refuses_traversal_and_hidden_files(client, media_root, path):
    secret = media_root.parent / "secret.txt"
    secret.write_bytes(b"not for the web")
    (media_root / "outside.txt").symlink_to(secret)
    (media_root / "mocs").mkdir()
    (media_root / "mocs" / ".upload-abc123").write_bytes(b"half written")

    response = client.get(path)

    assert_error(response, 404, "NOT_FOUND", "File not found")
    assert b"not for the web" not in response.content


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_media_answers_other_methods_with_405_and_allow(client, media_root, method):
    (media_root / "list.xml").write_bytes(SCRIPT_XML)

    response = getattr(client, method)("/media/list.xml")

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "GET, HEAD"
    assert (media_root / "list.xml").read_bytes() == SCRIPT_XML


def test_media_download_name_is_signed_for_its_own_file(api, moc, client, media_root):
    first = upload(api, moc, "parts-list", "wanted.xml", SCRIPT_XML, "application/xml")
    second = upload(api, moc, "parts-list", "other.xml", SCRIPT_XML, "application/xml")
    token = parse_qs(urlsplit(first["fileUrl"]).query)["download"][0]

    for path, download in [
        (urlsplit(second["fileUrl"]).path, token),  # another file's token
        (urlsplit(first["fileUrl"]).path, token[:-1] + ("A" if token[-1] != "A" else "B")),  # a tampered one
        (urlsplit(first["fileUrl"]).path, "setup.exe"),  # a bare name
    ]:
        assert_error(client.get(path, {"download": download}), 403, "FORBIDDEN", "Invalid download token")
