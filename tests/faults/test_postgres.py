"""PostgreSQL stopped and restarted, and paused (SIGSTOP of the postmaster and every backend), under the application as
a warm Lambda runs it (`LiveApp`: one process, one persistent connection). While the database is out every request
answers in the error envelope, health answers 503 `Database unavailable`, and after the restart the same process
serves again (SPEC §1.1, §1.2, §7.1).

API routes answer the SPEC §1.2 500 `INTERNAL_ERROR`: its table keeps 503 for health and the identity provider, and
an outage is "anything unexpected" to a route. A paused database gives no error at all: PostgreSQL enforces
`statement_timeout` itself, and libpq has no read timeout, so a request that reaches a stalled server waits until it
wakes (or, deployed, until the Lambda's 30 s timeout). Only health bounds its check, in a thread it stops waiting for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.db import connection

from gallery.models import GalleryAlbum, GalleryImage
from lego_api.core import storage
from mocs.models import Moc, MocGalleryImage
from tests.factories import GalleryImageFactory
from tests.faults.probes import assert_internal_error, component, fresh_health
from tests.gallery.conftest import photo_bytes
from tests.helpers import stored_keys
from tests.samples import moc_fields

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token(token_for, owner) -> str:
    return token_for(owner)


@pytest.fixture
def warm_app(live_app, token, moc):
    """The live app after one request: its persistent connection is open and the caller's profile is mirrored."""
    assert live_app.get(f"/api/mocs/{moc.id}/parts-lists", token).status_code == 200
    return live_app


@pytest.fixture
def restartable_database(services) -> Iterator[None]:
    """Whatever the test does to PostgreSQL, it runs again at the end; this thread's connection, broken by the
    restart, is dropped so that the test (and pytest-django's flush after it) reconnects."""
    yield
    services.postgres.resume()
    services.postgres.start()
    connection.close()


def assert_unhealthy(response) -> None:
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["type"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["message"] == "Database unavailable"
    assert body["error"]["details"]["status"] == "unhealthy"
    assert component(response, "database")["status"] == "down"
    assert component(response, "database")["error"]


def test_stopped_database_answers_the_error_envelope_and_the_same_app_serves_after_the_restart(
    warm_app, token, moc, owner, services, restartable_database
):
    services.postgres.stop()
    read = warm_app.get(f"/api/mocs/{moc.id}/parts-lists", token)
    write = warm_app.request("POST", "/api/mocs", token, json=moc_fields("Written During The Outage"))
    during = fresh_health(warm_app)
    services.postgres.start()
    connection.close()

    assert_internal_error(read)
    assert_internal_error(write)
    assert_unhealthy(during)

    after = warm_app.request("POST", "/api/mocs", token, json=moc_fields("Written After The Restart"))
    assert after.status_code == 201, after.text
    assert warm_app.get(f"/api/mocs/{moc.id}/parts-lists", token).status_code == 200
    assert fresh_health(warm_app).json()["data"]["status"] == "healthy"
    # Nothing that answered 2xx was lost; nothing that failed was half-written.
    assert sorted(Moc.objects.filter(user_id=owner).values_list("title", flat=True)) == sorted(
        [moc.title, "Written After The Restart"]
    )


def test_paused_database_is_reported_unhealthy_while_it_is_still_paused(warm_app, services, restartable_database):
    services.postgres.pause()
    during = fresh_health(warm_app)  # answered while the database is still paused: the check gave up on it
    services.postgres.resume()

    assert_unhealthy(during)
    assert component(during, "database")["error"] == "TimeoutError"
    assert fresh_health(warm_app).json()["data"]["status"] == "healthy"


def test_a_request_that_meets_a_paused_database_completes_when_it_resumes(
    warm_app, token, moc, services, restartable_database
):
    answers: list = []
    services.postgres.pause()
    request = threading.Thread(target=lambda: answers.append(warm_app.get(f"/api/mocs/{moc.id}/parts-lists", token)))
    request.start()
    request.join(1.0)
    waiting = request.is_alive()  # no answer while the database is paused (and no error either)
    services.postgres.resume()
    request.join()

    assert waiting
    assert [answer.status_code for answer in answers] == [200]
    assert warm_app.get(f"/api/mocs/{moc.id}", token).status_code == 200


def test_link_routes_answer_the_error_envelope_while_the_database_is_stopped_and_work_after_the_restart(
    warm_app, token, moc, owner, services, restartable_database
):
    """M14-M16 (SPEC §4.2) under a database outage: no half-written link, and the same process serves them after."""
    image = GalleryImageFactory(user_id=owner)
    url = f"/api/mocs/{moc.id}/gallery-images"
    services.postgres.stop()
    listed = warm_app.get(url, token)
    linked = warm_app.request("POST", url, token, json={"galleryImageId": str(image.pk)})
    unlinked = warm_app.request("DELETE", f"{url}/{image.pk}", token)
    services.postgres.start()
    connection.close()

    for response in (listed, linked, unlinked):
        assert_internal_error(response)
    assert not MocGalleryImage.objects.filter(moc_id=moc.id).exists()

    assert warm_app.request("POST", url, token, json={"galleryImageId": str(image.pk)}).status_code == 201
    assert warm_app.get(url, token).json()["total"] == 1
    assert warm_app.request("DELETE", f"{url}/{image.pk}", token).status_code == 200
    assert warm_app.get(url, token).json()["total"] == 0


def test_album_and_feed_routes_answer_the_error_envelope_while_the_database_is_stopped_and_work_after_the_restart(
    warm_app, token, owner, services, restartable_database
):
    """G9, G10 and G14 (SPEC §4.3) under a database outage: nothing half-written, nothing cached, and the same
    process serves them after the restart."""
    services.postgres.stop()
    listed = warm_app.get("/api/albums", token)
    feed = warm_app.get("/api/gallery", token)
    created = warm_app.request("POST", "/api/albums", token, json={"title": "Written During The Outage"})
    services.postgres.start()
    connection.close()

    for response in (listed, feed, created):
        assert_internal_error(response)
    assert not GalleryAlbum.objects.filter(user_id=owner).exists()

    after = warm_app.request("POST", "/api/albums", token, json={"title": "Written After The Restart"})
    assert after.status_code == 201, after.text
    assert [album["title"] for album in warm_app.get("/api/albums", token).json()["data"]] == [
        "Written After The Restart"
    ]
    assert [item["title"] for item in warm_app.get("/api/gallery", token).json()["data"]["items"]] == [
        "Written After The Restart"
    ]


def test_image_routes_answer_the_error_envelope_while_the_database_is_stopped_and_work_after_the_restart(
    warm_app, token, owner, services, restartable_database
):
    """G1-G7 (SPEC §4.3) under a database outage: no row, no object left of the upload, and the same process serves
    them after the restart."""
    image = GalleryImageFactory(user_id=owner)
    photo = photo_bytes("JPEG", (320, 240))
    services.postgres.stop()
    during = [
        warm_app.get("/api/images", token),
        warm_app.get(f"/api/images/{image.pk}", token),
        warm_app.request("POST", "/api/images", token, files={"image": ("gate.jpg", photo, "image/jpeg")}),
        warm_app.request("PATCH", f"/api/images/{image.pk}", token, json={"title": "During"}),
        warm_app.request("POST", f"/api/images/{image.pk}/flag", token, json={}),
        warm_app.request("DELETE", f"/api/images/{image.pk}", token),
    ]
    services.postgres.start()
    connection.close()

    for response in during:
        assert_internal_error(response)
    assert list(GalleryImage.objects.filter(user_id=owner).values_list("pk", flat=True)) == [image.pk]
    assert stored_keys(f"tmp/{storage.user_key_segment(owner)}/") == []

    uploaded = warm_app.request("POST", "/api/images", token, files={"image": ("gate.jpg", photo, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["data"]["processingStatus"] == "ready"
    assert warm_app.get("/api/images", token).json()["total"] == 2
    assert warm_app.request("POST", f"/api/images/{image.pk}/flag", token, json={}).status_code == 201
    assert warm_app.request("DELETE", f"/api/images/{image.pk}", token).status_code == 200
