"""MOC statistics with worked data: the parts-lists summary (M26), by category (M27), uploads over time (M28)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from mocs.services.stats import stats_uploads_over_time
from tests.factories import MocFactory, MocPartsListFactory, SetFactory

pytestmark = pytest.mark.django_db


def get_data(api, url: str) -> dict:
    response = api.get(url)
    assert response.status_code == 200, response.content
    return response.json()


# --- M26 parts-lists summary -------------------------------------------------------------------------------------


def test_summary_with_no_lists(api):
    body = get_data(api, "/api/mocs/parts-lists/summary")
    assert body["data"] == {
        "statistics": {"totalPartsLists": 0, "builtCount": 0, "purchasedCount": 0, "averageInventoryPercentage": 0},
        "recentPartsLists": [],
    }
    assert "total" not in body


def test_summary_statistics(owner, api, other_user):
    truck = MocFactory(user_id=owner, title="Coffee Truck")
    castle = SetFactory(user_id=owner, title="Castle")
    MocPartsListFactory(moc=truck, built=True, purchased=True, inventory_percentage=Decimal("100"))
    MocPartsListFactory(moc=truck, built=False, purchased=True, inventory_percentage=Decimal("12.5"))
    MocPartsListFactory(moc=castle, built=False, purchased=False, inventory_percentage=Decimal("0"))
    MocPartsListFactory(moc=MocFactory(user_id=other_user), built=True, inventory_percentage=Decimal("50"))
    statistics = get_data(api, "/api/mocs/parts-lists/summary")["data"]["statistics"]
    # (100 + 12.5 + 0) / 3 = 37.5
    assert statistics == {
        "totalPartsLists": 3,
        "builtCount": 1,
        "purchasedCount": 2,
        "averageInventoryPercentage": 37.5,
    }


def test_summary_average_is_rounded_to_two_decimals(api, moc):
    for value in ("10", "10", "13.33"):
        MocPartsListFactory(moc=moc, inventory_percentage=Decimal(value))
    # 33.33 / 3 = 11.11
    assert get_data(api, "/api/mocs/parts-lists/summary")["data"]["statistics"]["averageInventoryPercentage"] == 11.11
    MocPartsListFactory(moc=moc, inventory_percentage=Decimal("0.01"))
    # 33.34 / 4 = 8.335 -> 8.34 (half up); rows written by factories bump nothing, so drop the cached answer
    cache.clear()
    assert get_data(api, "/api/mocs/parts-lists/summary")["data"]["statistics"]["averageInventoryPercentage"] == 8.34


def test_summary_recent_lists_are_the_ten_latest_with_the_moc_title(owner, api, other_user):
    now = timezone.now()
    truck = MocFactory(user_id=owner, title="Coffee Truck")
    lists = [
        MocPartsListFactory(moc=truck, title=f"List {i}", updated_at=now - dt.timedelta(hours=i), total_parts_count=i)
        for i in range(12)
    ]
    MocPartsListFactory(moc=MocFactory(user_id=other_user), updated_at=now + dt.timedelta(hours=1))
    recent = get_data(api, "/api/mocs/parts-lists/summary")["data"]["recentPartsLists"]
    assert [item["id"] for item in recent] == [str(pl.pk) for pl in lists[:10]]
    assert recent[3] == {
        "id": str(lists[3].pk),
        "mocId": str(truck.pk),
        "mocTitle": "Coffee Truck",
        "title": "List 3",
        "status": "ready",
        "built": False,
        "purchased": False,
        "inventoryPercentage": 0,
        "totalPartsCount": 3,
        "updatedAt": recent[3]["updatedAt"],
    }
    assert recent[3]["updatedAt"].endswith("Z")


# --- M27 by category ----------------------------------------------------------------------------------------------------


def test_by_category_worked_example(owner, api, other_user):
    MocFactory(user_id=owner, theme="City", tags=["food", "vehicle"])
    MocFactory(user_id=owner, theme="City", tags=["city", "vehicle"])  # `city` is the theme City: dropped
    MocFactory(user_id=owner, theme="Space", tags=["space", "rocket"])  # `space` is the theme Space: dropped
    SetFactory(user_id=owner, theme="Castle", tags=["knights"])  # sets count by theme; their tags are not counted
    MocFactory(user_id=owner, theme="", tags=["castle"])  # empty theme is not a category; `castle` is a theme
    MocFactory(user_id=other_user, theme="Pirates", tags=["ship"])
    body = get_data(api, "/api/mocs/stats/by-category")
    # count desc, then category asc (code-point order: upper case first)
    assert body["data"] == [
        {"category": "City", "count": 2},
        {"category": "vehicle", "count": 2},
        {"category": "Castle", "count": 1},
        {"category": "Space", "count": 1},
        {"category": "food", "count": 1},
        {"category": "rocket", "count": 1},
    ]
    assert body["total"] == 8


def test_by_category_themes_are_case_sensitive(owner, api):
    MocFactory(user_id=owner, theme="City", tags=[])
    MocFactory(user_id=owner, theme="city", tags=[])
    MocFactory(user_id=owner, theme="city", tags=["CITY"])  # stored as given here; matches a theme anyway
    assert get_data(api, "/api/mocs/stats/by-category")["data"] == [
        {"category": "city", "count": 2},
        {"category": "City", "count": 1},
    ]


def test_by_category_keeps_the_top_ten(owner, api):
    MocFactory(user_id=owner, theme="Town", tags=[f"tag{i:02d}" for i in range(12)])
    MocFactory(user_id=owner, theme="Town", tags=["tag05", "tag11"])
    body = get_data(api, "/api/mocs/stats/by-category")
    assert [row["category"] for row in body["data"]] == [
        "Town",
        "tag05",
        "tag11",
        "tag00",
        "tag01",
        "tag02",
        "tag03",
        "tag04",
        "tag06",
        "tag07",
    ]
    assert body["total"] == 2 + 2 + 2 + 7


def test_by_category_with_nothing(api):
    body = get_data(api, "/api/mocs/stats/by-category")
    assert body["data"] == [] and body["total"] == 0


# --- M28 uploads over time --------------------------------------------------------------------------------------------


def month_start(moment: dt.datetime, back: int) -> dt.datetime:
    index = moment.year * 12 + moment.month - 1 - back
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def label(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m")


def test_uploads_over_time_covers_twelve_calendar_months(owner, api, other_user):
    now = timezone.now()
    oldest, this_month = month_start(now, 11), month_start(now, 0)
    MocFactory(user_id=owner, theme="City", created_at=oldest - dt.timedelta(microseconds=1))  # 12 months back
    MocFactory(user_id=owner, theme="City", created_at=oldest)
    MocFactory(user_id=owner, theme="City", created_at=oldest + dt.timedelta(days=3))
    SetFactory(user_id=owner, theme="Castle", created_at=oldest + dt.timedelta(days=1))
    MocFactory(user_id=owner, theme="", created_at=this_month)
    MocFactory(user_id=owner, theme="Space", created_at=now)
    MocFactory(user_id=other_user, theme="City", created_at=now)
    body = get_data(api, "/api/mocs/stats/uploads-over-time")
    assert body["data"] == [
        {"date": label(oldest), "category": "Castle", "count": 1},
        {"date": label(oldest), "category": "City", "count": 2},
        {"date": label(this_month), "category": "Space", "count": 1},
        {"date": label(this_month), "category": "Unknown", "count": 1},
    ]
    assert body["total"] == 5


def test_uploads_over_time_uses_utc_months():
    now = dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC)
    # The window is April 2024 .. March 2025, in UTC.
    MocFactory(user_id="carol", theme="City", created_at=dt.datetime(2024, 4, 1, 1, 30, tzinfo=dt.UTC))
    MocFactory(user_id="carol", theme="City", created_at=dt.datetime(2024, 3, 31, 23, 59, tzinfo=dt.UTC))
    MocFactory(user_id="carol", theme="", created_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
    MocFactory(user_id="carol", theme="Zoo", created_at=dt.datetime(2025, 1, 31, 23, 59, tzinfo=dt.UTC))
    assert stats_uploads_over_time(user_id="carol", now=now) == [
        {"date": "2024-04", "category": "City", "count": 1},
        {"date": "2025-01", "category": "Zoo", "count": 1},
        {"date": "2025-03", "category": "Unknown", "count": 1},
    ]


def test_uploads_over_time_with_nothing(api):
    body = get_data(api, "/api/mocs/stats/uploads-over-time")
    assert body["data"] == [] and body["total"] == 0
