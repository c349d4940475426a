"""W4 reorder (SPEC §4.4): every listed item gets its sortOrder (and a new updatedAt) in one transaction with one
bulk UPDATE; the `itemOrders` alias; duplicate, foreign and unknown ids are 400 on `items` and change nothing;
1000 items in one request with a bounded number of queries. Against real PostgreSQL with threads released together:
two racing reorders both answer 200 and one whole order wins; parallel creates get distinct default sortOrders."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.helpers import assert_error
from tests.mocs.test_races import clients_of, race
from tests.wishlist.factories import WishlistItemFactory
from wishlist.models import WishlistItem
from wishlist.services import lock_user_wishlist

REORDER = "/api/wishlist/reorder"


def orders_of(owner: str) -> dict[str, int]:
    return {str(pk): order for pk, order in WishlistItem.objects.filter(user_id=owner).values_list("pk", "sort_order")}


def reversed_orders(items: list[WishlistItem]) -> list[dict]:
    return [{"id": str(item.id), "sortOrder": len(items) - 1 - index} for index, item in enumerate(items)]


@pytest.fixture
def items(owner) -> list[WishlistItem]:
    return [WishlistItemFactory(user_id=owner, title=f"Item {index}", sort_order=index) for index in range(4)]


# --- Rules ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put"])
def test_reorder_sets_the_listed_sort_orders_and_updated_at_only(api, owner, items, method):
    before = {item.pk: item for item in WishlistItem.objects.filter(user_id=owner)}
    sent = [{"id": str(items[0].id), "sortOrder": 30}, {"id": str(items[2].id), "sortOrder": "10"}]
    response = getattr(api, method)(REORDER, {"items": sent}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["data"] == {"updated": 2}
    assert body["message"] == "Wishlist items reordered successfully"
    after = {item.pk: item for item in WishlistItem.objects.filter(user_id=owner)}
    assert [after[item.pk].sort_order for item in items] == [30, 1, 10, 3]
    for item in items:
        changed = item in (items[0], items[2])
        assert (after[item.pk].updated_at > before[item.pk].updated_at) is changed
        assert (after[item.pk].title, after[item.pk].category) == (before[item.pk].title, before[item.pk].category)
    listed = api.get("/api/wishlist").json()["data"]
    assert [entry["title"] for entry in listed] == ["Item 1", "Item 3", "Item 2", "Item 0"]


@pytest.mark.django_db
def test_item_orders_is_an_alias_of_items(api, owner, items):
    response = api.post(REORDER, {"itemOrders": reversed_orders(items)}, format="json")
    assert response.json()["data"] == {"updated": 4}
    assert [orders_of(owner)[str(item.id)] for item in items] == [3, 2, 1, 0]


@pytest.mark.django_db
def test_duplicate_ids_are_400_on_items_and_change_nothing(api, owner, items):
    before = orders_of(owner)
    sent = [{"id": str(items[0].id), "sortOrder": 5}, {"id": str(items[0].id), "sortOrder": 6}]
    response = api.post(REORDER, {"items": sent}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", fields={"items": ["Item ids must be unique."]})
    assert orders_of(owner) == before


@pytest.mark.django_db
@pytest.mark.parametrize("stranger", ["another user's", "unknown"])
def test_an_id_that_is_not_the_callers_is_400_on_items_and_changes_nothing(api, owner, other_user, items, stranger):
    foreign = WishlistItemFactory(user_id=other_user, sort_order=0).id if stranger == "another user's" else uuid.uuid4()
    sent = [*reversed_orders(items), {"id": str(foreign), "sortOrder": 9}]
    before = orders_of(owner)
    response = api.post(REORDER, {"items": sent}, format="json")
    assert_error(
        response, 400, "VALIDATION_ERROR", "Validation failed", fields={"items": ["One or more items not found"]}
    )
    assert orders_of(owner) == before
    if stranger == "another user's":
        assert WishlistItem.objects.get(pk=foreign).sort_order == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"items": ["This field is required."]}),
        ({"items": []}, {"items": ["This list may not be empty."]}),
        ({"items": "not a list"}, None),
        ({"items": [{"id": "nope", "sortOrder": 1}]}, {"items.0.id": ["Must be a valid UUID."]}),
        ({"items": [{"id": str(uuid.uuid4()), "sortOrder": -1}]}, {"items.0.sortOrder": None}),
        ({"items": [{"id": str(uuid.uuid4())}]}, {"items.0.sortOrder": ["This field is required."]}),
    ],
    ids=["missing", "empty", "not a list", "bad id", "negative order", "no order"],
)
def test_malformed_entries_are_400_with_the_entry_path(api, body, fields):
    error = assert_error(api.post(REORDER, body, format="json"), 400, "VALIDATION_ERROR")
    if fields is None:
        assert list(error["details"]["fields"]) == ["items"]
        return
    assert set(error["details"]["fields"]) == set(fields)
    for name, messages in fields.items():
        if messages is not None:
            assert error["details"]["fields"][name] == messages


@pytest.mark.django_db
def test_more_than_1000_entries_are_refused(api):
    sent = [{"id": str(uuid.uuid4()), "sortOrder": index} for index in range(1001)]
    error = assert_error(api.post(REORDER, {"items": sent}, format="json"), 400, "VALIDATION_ERROR")
    assert error["details"]["fields"] == {"items": ["Ensure this field has no more than 1000 elements."]}


@pytest.mark.django_db
def test_1000_items_are_reordered_in_one_request_with_one_update_and_a_bounded_number_of_queries(
    api, owner, django_assert_max_num_queries
):
    now = timezone.now()
    rows = [
        WishlistItem(user_id=owner, title=f"Item {index}", sort_order=index, created_at=now, updated_at=now)
        for index in range(1000)
    ]
    WishlistItem.objects.bulk_create(rows)
    api.get("/api/wishlist/search", {"search": "warm-up"})  # the caller's profile mirror is made once, not here
    sent = {"items": reversed_orders(rows)}
    with django_assert_max_num_queries(8) as captured:
        response = api.post(REORDER, sent, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"updated": 1000}
    updates = [query["sql"] for query in captured.captured_queries if query["sql"].lstrip().startswith("UPDATE")]
    assert len(updates) == 1
    orders = orders_of(owner)
    assert [orders[str(row.id)] for row in rows] == list(range(999, -1, -1))


@pytest.mark.django_db
def test_the_rows_are_locked_in_id_order(api, owner, items):
    with CaptureQueriesContext(connection) as captured:
        assert api.post(REORDER, {"items": reversed_orders(items)}, format="json").status_code == 200
    [locking] = [query["sql"] for query in captured.captured_queries if "FOR UPDATE" in query["sql"]]
    assert locking.startswith('SELECT "wishlist_items"."id" AS "pk" FROM "wishlist_items"')
    assert locking.endswith("ORDER BY 1 ASC FOR UPDATE")


# --- Races against real PostgreSQL ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_racing_reorders_both_succeed_and_one_whole_order_wins(token_for, owner):
    rows = [WishlistItemFactory(user_id=owner, title=f"Item {index}", sort_order=index) for index in range(50)]
    clients = clients_of(token_for(owner))[:2]
    assert clients[0].get("/api/wishlist").status_code == 200  # the profile mirror, before the race
    forwards = [{"id": str(row.id), "sortOrder": index} for index, row in enumerate(rows)]
    backwards = reversed_orders(rows)
    # Each lists the rows in another order: a lock taken in body order would deadlock.
    bodies = [{"items": forwards[::-1]}, {"items": backwards}]

    responses = race(
        clients,
        lambda index, api: api.post(REORDER, bodies[index], format="json"),
        hold=lambda: list(WishlistItem.objects.select_for_update().filter(pk=rows[-1].pk)),
    )

    assert [response.status_code for response in responses] == [200, 200], [r.content for r in responses]
    final = orders_of(owner)
    applied = [{entry["id"]: entry["sortOrder"] for entry in body["items"]} for body in bodies]
    assert final in applied


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_get_distinct_default_sort_orders(token_for, owner):
    clients = clients_of(token_for(owner))
    assert clients[0].get("/api/wishlist").status_code == 200
    WishlistItemFactory(user_id=owner, sort_order=4)

    responses = race(
        clients,
        lambda index, api: api.post("/api/wishlist", {"title": f"Wanted {index}"}, format="json"),
        hold=lambda: lock_user_wishlist(user_id=owner),
    )

    assert [response.status_code for response in responses] == [201] * len(clients)
    orders = sorted(response.json()["data"]["sortOrder"] for response in responses)
    assert orders == list(range(5, 5 + len(clients)))
