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

from mocs.models import Moc
from tests.faults.probes import assert_internal_error, component, fresh_health
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
