"""A real browser (Debian's chromium, driven by Playwright) against a live server: the admin logs in with its CSS,
and Swagger UI renders the operations from local assets only (SPEC §4.1 C3, §7.2).

The server runs without Django's test static handler (which pytest-django's `live_server` puts in front of the
app), so `/static/` is served by whitenoise through the whole middleware stack, as on Lambda.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test.testcases import LiveServerThread

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
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


@pytest.fixture
def app_server(transactional_db) -> Iterator[str]:
    """The real WSGI app on a loopback port, with no static handler in front of it (whitenoise serves /static/)."""
    thread = LiveServerThread("127.0.0.1", static_handler=lambda application: application, port=0)
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


def test_admin_login_shows_the_site_index_with_its_css(staff_user, app_server, browser_page, tmp_path):
    page, traffic = browser_page

    page.goto(f"{app_server}/admin/")
    page.wait_for_url("**/admin/login/**")
    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{app_server}/admin/")
    page.get_by_text("Site administration").wait_for()
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
