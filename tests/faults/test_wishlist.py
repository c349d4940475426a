"""The wishlist routes under outages (SPEC §4.4, §5.3, §6.1, §6.2):

- S3 stopped and paused: W8 is the 500 envelope, and the item keeps its old image (row and object); it works again
  once storage is back; W7 still deletes the item (the object's deletion runs after commit and is logged when it
  fails). What an outage leaves in the bucket, the orphan sweep removes.
- OpenSearch stopped and paused: W3 and W1 with `search` answer from PostgreSQL, and every write succeeds.
- Redis paused: a reorder during the pause is what its owner reads once Redis is back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lego_api.core import orphans, redis_breaker, storage
from lego_api.core.models import CacheDebt
from tests.faults.probes import OUTAGES, assert_internal_error, outage, wait_until_settled
from tests.faults.test_s3 import short_storage_timeouts  # noqa: F401 - a fixture
from tests.helpers import ManualClock, stored_keys
from tests.wishlist.uploads import jpeg_bytes, upload_image
from wishlist.models import WishlistItem

# Storage calls give up after about 2 s, as in the S3 fault tests (the other services ignore the setting).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("short_storage_timeouts")]


def prefix(owner: str) -> str:
    return f"wishlist/{storage.user_key_segment(owner)}/"


def sweep(owner: str) -> None:
    """The sweeper's orphan step once the grace period has passed, over this user's wishlist folder only."""
    later = timezone.now() + orphans.UNREFERENCED_GRACE + timedelta(minutes=1)
    orphans.unreferenced_objects_sweep(now=later, within=prefix(owner))


@pytest.fixture
def item_with_image(api) -> WishlistItem:
    created = api.post("/api/wishlist", {"title": "Coffee Truck", "category": "Vehicles"}, format="json")
    item = WishlistItem.objects.get(pk=created.json()["data"]["id"])
    assert upload_image(api, item.id).status_code == 200
    return WishlistItem.objects.get(pk=item.pk)


def image_of(item: WishlistItem) -> tuple:
    row = WishlistItem.objects.get(pk=item.pk)
    return row.image_url, row.image_width, row.image_height


# --- S3 ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTAGES)
def test_an_image_upload_while_storage_is_out_keeps_the_old_image_and_works_after(
    api, owner, item_with_image, services, kind
):
    before = image_of(item_with_image)
    with outage(services.s3, kind):
        during = upload_image(api, item_with_image.id, jpeg_bytes((800, 600)))
    assert_internal_error(during)
    assert image_of(item_with_image) == before

    wait_until_settled(services.s3, owner, prefix=prefix(owner))
    assert before[0] in stored_keys(prefix(owner)), "the old image is still there"
    after = upload_image(api, item_with_image.id, jpeg_bytes((800, 600)))
    assert after.status_code == 200, after.content
    assert (after.json()["data"]["imageWidth"], after.json()["data"]["imageHeight"]) == (800, 600)
    sweep(owner)
    assert stored_keys(prefix(owner)) == [image_of(item_with_image)[0]]


@pytest.mark.parametrize("kind", OUTAGES)
def test_a_delete_while_storage_is_out_deletes_the_item_and_the_sweep_takes_the_object(
    api, owner, item_with_image, services, kind
):
    with outage(services.s3, kind):
        during = api.delete(f"/api/wishlist/{item_with_image.id}")
    assert during.status_code == 200, during.content
    assert not WishlistItem.objects.filter(pk=item_with_image.pk).exists()

    wait_until_settled(services.s3, owner, prefix=prefix(owner))
    sweep(owner)
    assert stored_keys(prefix(owner)) == []


# --- OpenSearch ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", OUTAGES)
def test_searches_answer_from_postgres_and_writes_succeed_while_the_engine_is_out(api, owner, services, kind):
    created = [
        api.post("/api/wishlist", {"title": title}, format="json").json()["data"]["id"]
        for title in ("Coffee Truck", "Fire Truck", "Space Station")
    ]
    with outage(services.opensearch, kind):
        searched = api.get("/api/wishlist/search", {"q": "truck"})
        listed = api.get("/api/wishlist", {"search": "truck", "limit": 5})
        writes = [
            api.post("/api/wishlist", {"title": "Offline Truck"}, format="json"),
            api.patch(f"/api/wishlist/{created[0]}", {"title": "Tea Truck"}, format="json"),
            api.post("/api/wishlist/reorder", {"items": [{"id": created[1], "sortOrder": 9}]}, format="json"),
            api.delete(f"/api/wishlist/{created[2]}"),
        ]

    for response in (searched, listed):
        assert response.status_code == 200, response.content
        assert response["X-Search-Backend"] == "postgres"
        assert sorted(item["title"] for item in response.json()["data"]) == ["Coffee Truck", "Fire Truck"]
    assert [response.status_code for response in writes] == [201, 200, 200, 200]
    assert sorted(WishlistItem.objects.filter(user_id=owner).values_list("title", flat=True)) == [
        "Fire Truck",
        "Offline Truck",
        "Tea Truck",
    ]


# --- Redis -------------------------------------------------------------------------------------------------------------


def test_a_reorder_during_a_redis_pause_is_what_its_owner_reads_after_the_resume(api, owner, services, monkeypatch):
    clock = ManualClock.installed(monkeypatch)
    ids = [api.post("/api/wishlist", {"title": f"Item {n}"}, format="json").json()["data"]["id"] for n in range(3)]

    def order() -> tuple[str, list[str]]:
        response = api.get("/api/wishlist")
        assert response.status_code == 200, response.content
        return response["X-Cache"], [item["id"] for item in response.json()["data"]]

    order()
    assert order() == ("HIT", ids)
    reordered = [{"id": item_id, "sortOrder": 10 - index} for index, item_id in enumerate(ids)]
    with services.redis.paused():
        assert api.put("/api/wishlist/reorder", {"items": reordered}, format="json").status_code == 200
        assert list(CacheDebt.objects.values_list("user_id", "family")) == [(owner, "wishlist")]
        assert order() == ("MISS", ids[::-1])

    clock.advance(redis_breaker.OPEN_SECONDS)
    assert order() == ("MISS", ids[::-1]), "the debt is applied before the cache is read"
    assert not CacheDebt.objects.exists()
    assert order() == ("HIT", ids[::-1])
