"""A real browser (Debian's chromium, driven by Playwright) against a live server: the admin logs in with its CSS,
Swagger UI renders the operations from local assets only (SPEC §4.1 C3, §7.2), and no URL the API hands out for an
upload runs the upload's script, with S3 or file-system storage (SPEC §5.3 "Serving user files safely").

The server runs without Django's test static and media handlers (which pytest-django's `live_server` puts in front of
the app), so `/static/` is served by whitenoise and `/media/` by our view, through the whole middleware stack.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import override_settings
from django.test.testcases import LiveServerThread

from gallery.models import GalleryFlag
from lego_api.core import storage
from tests.factories import GalleryFlagFactory, GalleryImageFactory, MocFactory
from tests.helpers import file_system_storage, handed_out_urls
from tests.samples import html_csv_with_script, image_bytes, xml_with_script

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
STAFF_PASSWORD = "a-long-staff-password-1"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (make browser-deps installs it)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")
sync_playwright, PlaywrightError = playwright_api.sync_playwright, playwright_api.Error


@pytest.fixture
def app_server(transactional_db) -> Iterator[str]:
    """The real WSGI app on a loopback port, with none of Django's test handlers in front of it: whitenoise serves
    /static/ and our own view serves /media/ (LiveServerThread hands `static_handler` the WSGI app wrapped in its
    media handler, which this unwraps)."""
    thread = LiveServerThread("127.0.0.1", static_handler=lambda media_handler: media_handler.application, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@dataclass
class Traffic:
    """Every request the browser made, and the responses by URL path."""

    urls: list[str] = field(default_factory=list)
    responses: dict[str, Any] = field(default_factory=dict)  # path -> the first playwright Response for it

    def non_loopback(self) -> list[str]:
        outside = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            host = parts.hostname or ""
            if host == "localhost":
                continue
            try:
                if ipaddress.ip_address(host).is_loopback:
                    continue
            except ValueError:
                pass
            outside.append(url)
        return outside

    def response_for(self, path: str):
        return self.responses.get(path)


@pytest.fixture
def staff_user(transactional_db):
    """Made before the browser starts: while Playwright's sync API runs, this thread has a running event loop,
    so Django would treat ORM calls as async-unsafe (and give them a connection of their own)."""
    return get_user_model().objects.create_superuser("staff", "staff@example.com", STAFF_PASSWORD)


@pytest.fixture
def browser_page(tmp_path):
    """A page in a fresh chromium profile, recording every request of the whole context."""
    traffic = Traffic()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("request", lambda request: traffic.urls.append(request.url))
        context.on("response", lambda response: traffic.responses.setdefault(urlsplit(response.url).path, response))
        page = context.pages[0] if context.pages else context.new_page()
        try:
            yield page, traffic
        finally:
            context.close()


def log_in(page, app_server: str, staff_user) -> None:
    """Sign in to the admin through its login form; the site index is open afterwards."""
    page.goto(f"{app_server}/admin/")
    page.wait_for_url("**/admin/login/**")
    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{app_server}/admin/")
    page.get_by_text("Site administration").wait_for()


def test_admin_login_shows_the_site_index_with_its_css(staff_user, app_server, browser_page, tmp_path):
    page, traffic = browser_page

    log_in(page, app_server, staff_user)
    page.locator("a[href='/admin/profiles/profile/']", has_text="Profiles").wait_for()

    screenshot = tmp_path / "admin-index.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG")

    css = traffic.response_for("/static/admin/css/base.css")
    assert css is not None and css.status == 200
    # Our middleware's headers prove the file came through the app (whitenoise), not a test-only handler.
    assert css.headers.get("x-request-id")
    assert css.headers.get("x-content-type-options") == "nosniff"
    # The stylesheet applied: the header bar is not the browser's default transparent background.
    background = page.eval_on_selector("#header", "el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    assert traffic.non_loopback() == []


@pytest.fixture
def flagged_image(transactional_db):
    """A processed gallery image with its thumbnail in storage, reported by two users (made before the browser
    starts, see `staff_user`)."""
    owner = f"owner-{uuid.uuid4().hex[:12]}"
    image = GalleryImageFactory(user_id=owner, title="Reported castle")
    storage.save_bytes(image.thumbnail_url, image_bytes("WEBP", (400, 300)), content_type="image/webp")
    GalleryFlagFactory(image=image, user_id="reporter-1", reason="Not a LEGO build")
    GalleryFlagFactory(image=image, user_id="reporter-2", reason="Spam")
    return image


def in_a_thread(query):
    """Run an ORM query outside the thread where Playwright's event loop runs (see `staff_user`)."""
    answers: list = []

    def run() -> None:
        try:
            answers.append(query())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return answers[0]


def test_moderation_view_shows_a_flagged_image_and_dismiss_flags_clears_it(
    staff_user, flagged_image, app_server, browser_page
):
    """SPEC §7.2 "Flagged images": the thumbnail loads from its stored URL, and the action clears the flags."""
    page, traffic = browser_page
    log_in(page, app_server, staff_user)

    page.goto(f"{app_server}/admin/gallery/flaggedimage/")
    row = page.locator("#result_list tbody tr", has_text="Reported castle")
    row.wait_for()
    cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
    assert cells[-3:-1] == ["2", "Spam"]  # the flag count and the latest reason
    thumbnail = row.locator(f"img[src*='thumbnails/{flagged_image.pk}.webp']")
    thumbnail.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth === 400", arg=thumbnail.element_handle())

    row.locator("input[name=_selected_action]").check()
    page.select_option("select[name=action]", "dismiss_flags")
    page.click("button[name=index]")
    page.get_by_text("1 image(s) cleared of flags.").wait_for()
    assert page.locator("#result_list tbody tr", has_text="Reported castle").count() == 0

    flags = in_a_thread(lambda: GalleryFlag.objects.filter(image_id=flagged_image.pk).count())
    assert flags == 0
    assert traffic.non_loopback() == []


def test_swagger_ui_renders_operations_from_local_assets(app_server, browser_page):
    page, traffic = browser_page

    page.goto(f"{app_server}/api/docs")
    page.locator(".opblock-summary-path", has_text="/api/csrf").first.wait_for()
    assert page.locator(".opblock").count() > 1

    bundle = next((path for path in traffic.responses if path.endswith("/swagger-ui-bundle.js")), None)
    assert bundle is not None, sorted(traffic.responses)
    response = traffic.response_for(bundle)
    assert response.status == 200 and response.headers.get("x-request-id")
    schema = traffic.response_for("/api/schema")
    assert schema is not None and schema.status == 200
    assert traffic.non_loopback() == []


# --- SPEC §5.3: no URL the API hands out runs an upload's script ------------------------------------------------

OCTET_STREAM = "application/octet-stream"


class Beacon:
    """A loopback HTTP listener that records every request: an upload's script, if it ever ran, requests
    `url_for(label)`. `control_url` serves such a file inline as XML, to show the script does run when a file is
    served unsafely (so an empty record means something)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        beacon = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/control.xml":
                    body = xml_with_script(beacon.url_for("control"))
                    self.send_response(200)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.path.startswith("/script-ran"):  # not the browser's own /favicon.ico
                    beacon.hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.control_url = f"{self.base}/control.xml"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url_for(self, label: str) -> str:
        return f"{self.base}/script-ran?from={quote(label)}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def beacon() -> Iterator[Beacon]:
    listener = Beacon()
    yield listener
    listener.close()


@dataclass
class ServedUploads:
    """Every URL the API handed out for uploads with scripts (to be downloads) and for an image (to show inline)."""

    storage: str
    downloads: list[tuple[str, str, str]] = field(default_factory=list)  # (label, url, original filename)
    images: list[tuple[str, str]] = field(default_factory=list)  # (label, url)


def _created(response, status: int = 201) -> dict:
    assert response.status_code == status, response.content
    return response.json()["data"]


def _upload_files(api, moc, beacon: Beacon) -> dict[str, dict]:
    """Uploads through M11, M17 and the presigned flow (M9, PUT, M10): the MocFile each one answers, by filename."""
    files: dict[str, dict] = {}
    for file_type, filename, data, declared in [
        ("parts-list", "Café wanted.xml", xml_with_script(beacon.url_for("m11-xml")), "application/xml"),
        ("parts-list", "page.txt", html_csv_with_script(beacon.url_for("m11-html-txt")), "text/plain"),
        ("thumbnail", "cover.png", image_bytes("PNG"), "image/png"),
    ]:
        body = {"file": SimpleUploadedFile(filename, data, content_type=declared), "fileType": file_type}
        files[filename] = _created(api.post(f"/api/mocs/{moc.id}/files", body, format="multipart"))

    xml_as_txt = SimpleUploadedFile("wanted.txt", xml_with_script(beacon.url_for("m17-txt")), content_type="text/plain")
    response = api.post(f"/api/mocs/{moc.id}/upload-parts-list", {"file": xml_as_txt}, format="multipart")
    files["wanted.txt"] = _created(response)["file"]

    presigned = xml_with_script(beacon.url_for("presigned-xml"))
    entry = {
        "filename": "presigned.xml",
        "fileType": "parts-list",
        "mimeType": "application/xml",
        "size": len(presigned),
    }
    [upload] = _created(api.post(f"/api/mocs/{moc.id}/files/initialize", {"files": [entry]}, format="json"))[
        "uploadUrls"
    ]
    put = requests.put(upload["uploadUrl"], data=presigned, headers=upload["headers"], timeout=10)
    assert put.status_code == 200, put.text
    finalized = api.post(
        f"/api/mocs/{moc.id}/finalize",
        {"uploadedFiles": [{"fileId": upload["fileId"], "success": True}]},
        format="json",
    )
    [files["presigned.xml"]] = [file for file in _created(finalized, 200)["files"] if file["id"] == upload["fileId"]]
    return files


@pytest.fixture(params=["s3", "file-system"])
def served_uploads(request, app_server, beacon, auth_client, tmp_path) -> Iterator[ServedUploads]:
    """Uploads with scripts through the API in one storage mode, and every URL the API hands out for them.

    Made through the in-process client before the browser starts (see `staff_user`); absolute media URLs name the
    live server through `SITE_URL`, and the live server serves `/media/` and C5 from the same settings."""
    with contextlib.ExitStack() as stack:
        if request.param == "file-system":
            stack.enter_context(file_system_storage(tmp_path / "media"))
        stack.enter_context(override_settings(SITE_URL=app_server))
        owner = f"owner-{uuid.uuid4().hex[:12]}"
        api, moc = auth_client(owner), MocFactory(user_id=owner)
        files = _upload_files(api, moc, beacon)
        served = ServedUploads(storage=request.param)
        for filename, file in files.items():
            urls = handed_out_urls(api, moc.id, file)
            if filename == "cover.png":
                detail = _created(api.get(f"/api/mocs/{moc.id}"), 200)
                urls = {"MocFile fileUrl": urls["MocFile fileUrl"], "thumbnailUrl": detail["thumbnailUrl"]}
                served.images += [(f"{filename}: {label}", url) for label, url in urls.items()]
            else:
                served.downloads += [(f"{filename}: {label}", url, filename) for label, url in urls.items()]
        yield served


def open_as_download(page, url: str, beacon: Beacon):
    """Open `url` as a user would; it must start a download rather than render a page."""
    with page.expect_download() as download:
        try:
            response = page.goto(url)
        except PlaywrightError as error:
            if "Download is starting" not in error.message:
                raise
        else:
            raise AssertionError(
                f"rendered as a page ({response.headers.get('content-type')}), title {page.title()!r}, "
                f"script requests {beacon.hits}"
            )
    return download.value


def test_no_url_the_api_hands_out_runs_an_uploaded_script(served_uploads, beacon, browser_page):
    page, traffic = browser_page

    # The detector works: the same kind of file served inline as XML runs its script in this browser.
    page.goto(beacon.control_url)
    assert beacon.hits == ["/script-ran?from=control"]
    beacon.hits.clear()

    for label, url, filename in served_uploads.downloads:
        download = open_as_download(page, url, beacon)
        assert download.suggested_filename == filename, label
        assert beacon.hits == [], label
        # The headers the browser was sent (SPEC §5.3); the /media/ view adds nosniff and a sandbox.
        headers = requests.get(url, timeout=10).headers
        assert headers["Content-Type"] == OCTET_STREAM, label
        assert headers["Content-Disposition"].startswith("attachment; "), label
        if served_uploads.storage == "file-system":
            assert (headers["X-Content-Type-Options"], headers["Content-Security-Policy"]) == ("nosniff", "sandbox")

    for label, url in served_uploads.images:
        response = page.goto(url)
        assert response.status == 200, label
        assert response.headers["content-type"] == "image/png", label
        assert response.headers.get("content-disposition", "inline") == "inline", label

    assert beacon.hits == []
    assert traffic.non_loopback() == []
