"""Cache hits (SPEC §6.1, issue 12 item 3): a hit answers the body its miss rendered and stored (data and list meta
up to `timestamp`, then a fresh timestamp), the same bytes and headers as that miss and as the renderer writes,
for every cached route of the SPEC table; it reads the versions and the entry in one Redis round trip and makes no
database query; an entry of another owner, of the format before, of another format or corrupt is a miss."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import re
import uuid

import pytest
import redis.connection
from django.core.cache import cache

from lego_api.core.cache import (
    ENTRY_FORMAT,
    CachedResult,
    Entry,
    bump,
    cache_set,
    cached_entry,
    get_versions,
    reset_fault_state,
    response_key,
)
from lego_api.core.envelope import SuccessBody
from lego_api.core.pagination import page_meta
from lego_api.core.renderers import EnvelopeJSONRenderer
from mocs.models import Moc
from mocs.serializers import MocDetailSerializer, MocSerializer
from mocs.services.mocs import moc_detail_queryset
from tests.factories import GalleryAlbumFactory, GalleryImageFactory, MocFactory, MocPartFactory, MocPartsListFactory
from tests.helpers import entry_result

# Writes must commit for their after-commit bumps to run, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

TIMESTAMP = re.compile(rb'"timestamp":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"}$')
REQUEST_ID = "cache-hit-probe-1"
M1_QUERY = {"page": 1, "limit": 20, "tag": None, "type": None, "search": None}


@pytest.fixture
def routes(owner, api, settings) -> dict[str, str]:
    """Every route of the SPEC §6.1 table, over rows of each kind of the owner's (identity from the profile row:
    with a Cognito outage U1 is served degraded and not stored)."""
    settings.COGNITO_USER_POOL_ID = None
    moc = MocFactory(user_id=owner, title="Coffee Truck", tags=["food", "vehicle"])
    MocFactory(user_id=owner, title="Tea Café ☕", description='Ünïcode and "quotes"\n', tags=[])
    for _ in range(2):
        MocPartFactory(parts_list=MocPartsListFactory(moc=moc))
    album = GalleryAlbumFactory(user_id=owner)
    image = GalleryImageFactory(user_id=owner, album=album)
    created = api.post("/api/wishlist", {"title": "Modular Bakery", "category": "Modular"}, format="json")
    assert created.status_code == 201, created.content
    item = created.json()["data"]["id"]
    return {
        "M1": "/api/mocs",
        "M1 filtered": "/api/mocs?tag=FOOD&limit=5",
        "M1 search": "/api/mocs?search=coffee",
        "M3": "/api/mocs/search?q=coffee",
        "M4": f"/api/mocs/{moc.pk}",
        "M26": "/api/mocs/parts-lists/summary",
        "M27": "/api/mocs/stats/by-category",
        "M28": "/api/mocs/stats/uploads-over-time",
        "G2": "/api/images",
        "G3": "/api/images/search?search=castle",
        "G4": f"/api/images/{image.pk}",
        "G9": "/api/albums",
        "G11": f"/api/albums/{album.pk}",
        "G14": "/api/gallery",
        "W1": "/api/wishlist",
        "W3": "/api/wishlist/search?q=bakery",
        "W5": f"/api/wishlist/{item}",
        "U1": "/api/users/me",
    }


def get(api, url: str):
    response = api.get(url, HTTP_X_REQUEST_ID=REQUEST_ID)
    assert response.status_code == 200, (url, response.content)
    return response


def untimed(content: bytes) -> bytes:
    """The body without its timestamp, which must be the last member and well formed."""
    assert TIMESTAMP.search(content), content[-80:]
    return TIMESTAMP.sub(b"", content)


def headers_but_the_counters(response) -> list[tuple[str, str]]:
    """Every header in order, the values of `X-Cache` and of the rate limiter's counters left out (the hit was
    counted too, maybe in the next second of the window)."""
    counters = {"X-Cache", "RateLimit-Remaining", "RateLimit-Reset"}
    return [(name, "" if name in counters else value) for name, value in response.headers.items()]


def test_a_hit_is_the_miss_that_stored_it_byte_for_byte(api, routes, settings):
    # The limiter's headers are compared too; the general window is the tightest, so its count shows.
    settings.RATE_LIMIT_ENABLED, settings.RATE_LIMIT_GENERAL, settings.RATE_LIMIT_AUTH = True, "1000/900", "5000/900"
    for route, url in routes.items():
        miss, hit = get(api, url), get(api, url)
        assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT"), route
        assert untimed(hit.content) == untimed(miss.content), route
        assert headers_but_the_counters(hit) == headers_but_the_counters(miss), route
        assert hit["Content-Type"] == "application/json" and hit["X-Request-ID"] == REQUEST_ID, route
        assert int(hit["RateLimit-Remaining"]) == int(miss["RateLimit-Remaining"]) - 1, route


def test_list_and_detail_bodies_are_what_the_renderer_writes_for_the_serialized_rows(owner, api, routes):
    """Today's answer, rebuilt the way it was made before hits stored bytes: the serializer's data and the page meta
    through the envelope renderer."""
    rows = list(Moc.objects.filter(user_id=owner).order_by("-updated_at", "id"))
    moc = moc_detail_queryset().get(pk=routes["M4"].rsplit("/", 1)[1])
    renderer = EnvelopeJSONRenderer()
    expected = {
        routes["M1"]: renderer.render(
            {"success": True, "data": MocSerializer(rows, many=True).data, **page_meta(len(rows), 1, 20)}
        ),
        routes["M4"]: renderer.render({"success": True, "data": MocDetailSerializer(moc).data}),
    }
    for url, body in expected.items():
        miss, hit = get(api, url), get(api, url)
        assert hit["X-Cache"] == "HIT"
        assert untimed(miss.content) == untimed(hit.content) == untimed(body), url


def test_a_stored_body_renders_like_the_envelope_renderer():
    data = [
        {
            "id": uuid.UUID(int=7),
            "created_at": dt.datetime(2024, 2, 3, 4, 5, 6, 789000, tzinfo=dt.UTC),
            "release_date": dt.date(2020, 1, 2),
            "price": decimal.Decimal("12.50"),
            "parts_count": decimal.Decimal("3"),
            "nested_list": [{"snake_key": None, "text": 'Ünï "q" \n ☕ \u2028'}],
            "tags": ("a", "b"),
        }
    ]
    meta = page_meta(41, 3, 20)
    stored = SuccessBody.of(data, **meta).render()
    rendered = EnvelopeJSONRenderer().render({"success": True, "data": data, **meta})
    assert untimed(stored) == untimed(rendered)
    assert untimed(SuccessBody.of(None).render()) == untimed(
        EnvelopeJSONRenderer().render({"success": True, "data": None})
    )


def test_a_hit_makes_no_database_query(api, routes, clock, django_assert_max_num_queries):
    for url in routes.values():
        get(api, url)
    for route, url in routes.items():
        with django_assert_max_num_queries(0):
            assert get(api, url)["X-Cache"] == "HIT", route


@contextlib.contextmanager
def counting_round_trips(monkeypatch):
    """Counts what is written to Redis connections: one packed write per command, or per pipeline."""
    sent: list[int] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    yield sent
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", original)


def probe(**key):
    computed: list[int] = []

    def compute() -> CachedResult:
        computed.append(1)
        return CachedResult(data={"title": f"computed {len(computed)}"}, meta={"total": 1})

    def read() -> tuple[Entry, bool]:
        return cached_entry(name="probe", user_id="alice", families=("mocs", "gallery"), ttl=60, compute=compute, **key)

    return read, computed


def test_a_hit_reads_versions_and_entry_in_one_round_trip(monkeypatch, clock):
    read, computed = probe(parts=("one",))
    assert read()[1] is False  # this process has not seen alice's versions: MGET, GET, then SET
    with counting_round_trips(monkeypatch) as sent:
        entry, hit = read()
    assert hit and len(sent) == 1 and computed == [1]
    assert entry_result(entry).data == {"title": "computed 1"}

    bump("gallery", "alice")  # outside a transaction it runs at once, as another process's write would
    with counting_round_trips(monkeypatch) as sent:
        entry, hit = read()
    # the guessed versions are stale: the pipelined entry is dropped, the right key is read, then stored
    assert not hit and len(sent) == 3 and computed == [1, 1]
    assert entry_result(entry).data == {"title": "computed 2"}
    with counting_round_trips(monkeypatch) as sent:
        assert read()[1] is True
    assert len(sent) == 1


def test_an_evicted_counter_is_read_past_the_guess(monkeypatch, clock):
    read, computed = probe()
    cache.set("v:gallery:alice", 1, 60)  # an old value: the counter that comes back after eviction is another
    read()
    assert read()[1] is True
    cache.delete("v:gallery:alice")  # evicted: it restarts at the current time in ms, never at an old value
    assert read()[1] is False
    assert read()[1] is True
    assert computed == [1, 1]


def m1_key(owner: str) -> str:
    return response_key("mocs:list", owner, get_versions(owner, "mocs"), families=("mocs",), params=M1_QUERY)


def forge(owner: str) -> Entry:
    return Entry.of(CachedResult(data=[{"id": "forged"}], meta=page_meta(1, 1, 20)))


def raw_set(key: str, value: bytes) -> None:
    cache.client.get_client(write=True).set(cache.make_key(key), value, ex=60)


OLD_AND_CORRUPT = {
    "the format before (a dict)": lambda owner, key: cache.set(
        key, {"owner": owner, "data": [{"id": "forged"}], "meta": {"total": 1}, "headers": {}}, 60
    ),
    "another format tag": lambda owner, key: cache.set(key, ("r0", owner, forge(owner).head, ()), 60),
    "a truncated body": lambda owner, key: cache.set(key, (ENTRY_FORMAT, owner, b'{"success":true,"data":[', ()), 60),
    "headers that are not pairs": lambda owner, key: cache.set(
        key, (ENTRY_FORMAT, owner, forge(owner).head, ("X-Search-Backend",)), 60
    ),
    "a tuple too short": lambda owner, key: cache.set(key, (ENTRY_FORMAT, owner), 60),
    "bytes that do not unpickle": lambda owner, key: raw_set(key, b"\x80\x05\x95garbage"),
    "another owner's entry": lambda owner, key: cache_set(key, owner="mallory", entry=forge(owner), ttl=60),
}


@pytest.mark.parametrize("lookup", ["first read in this process", "pipelined"])
@pytest.mark.parametrize("written", list(OLD_AND_CORRUPT))
def test_an_old_corrupt_or_foreign_entry_is_a_miss_and_is_replaced(owner, api, written, lookup):
    moc = MocFactory(user_id=owner)
    get(api, "/api/mocs?limit=5")  # the owner's versions are known to this process now
    if lookup == "first read in this process":
        reset_fault_state()  # forgets them, as a new process has
    OLD_AND_CORRUPT[written](owner, m1_key(owner))
    response = get(api, "/api/mocs")
    assert response["X-Cache"] == "MISS"
    assert [row["id"] for row in response.json()["data"]] == [str(moc.pk)]
    again = get(api, "/api/mocs")
    assert again["X-Cache"] == "HIT" and untimed(again.content) == untimed(response.content)


def test_a_bad_query_is_refused_every_time_and_a_good_one_validated_once_still_keys_by_value(api, routes):
    for _ in range(2):
        assert api.get("/api/mocs?type=bogus").status_code == 400
        assert api.get("/api/mocs?limit=0").status_code == 400
        assert api.get("/api/images/search?limit=5").status_code == 400  # G3 requires `search`
    assert get(api, "/api/mocs?tag=FOOD")["X-Cache"] == "MISS"
    assert get(api, "/api/mocs?tag=FOOD")["X-Cache"] == "HIT"
    assert get(api, "/api/mocs?tag=food")["X-Cache"] == "HIT", "the same canonical query, another query string"
    assert get(api, "/api/images?tag=CASTLE")["X-Cache"] == "MISS", "another view's entry"
    assert len(get(api, "/api/mocs?tag=food").json()["data"]) == 1
