"""MOC statistics: the parts-lists summary (M26), MOCs by category (M27) and uploads over time (M28)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Q, Value
from django.db.models.functions import Coalesce, NullIf, TruncMonth
from django.utils import timezone

from mocs.models import Moc, MocPartsList, MocType

RECENT_PARTS_LISTS = 10
TOP_CATEGORIES = 10
MONTHS = 12
UNKNOWN_THEME = "Unknown"


def stats_parts_lists_summary(*, user_id: str) -> dict[str, Any]:
    """`{statistics, recent_parts_lists}` over every parts list of the user's MOCs (two queries)."""
    lists = MocPartsList.objects.filter(moc__user_id=user_id)
    totals = lists.aggregate(
        total=Count("id"),
        built=Count("id", filter=Q(built=True)),
        purchased=Count("id", filter=Q(purchased=True)),
        average=Avg("inventory_percentage"),
    )
    average = totals["average"]
    statistics = {
        "total_parts_lists": totals["total"],
        "built_count": totals["built"],
        "purchased_count": totals["purchased"],
        "average_inventory_percentage": (
            float(Decimal(average).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if average is not None else 0
        ),
    }
    recent = lists.select_related("moc").only(
        "id", "moc__id", "moc__title", "title", "status", "built", "purchased", "inventory_percentage",
        "total_parts_count", "updated_at",
    ).order_by("-updated_at", "id")[:RECENT_PARTS_LISTS]  # fmt: skip
    return {
        "statistics": statistics,
        "recent_parts_lists": [
            {
                "id": parts_list.id,
                "moc_id": parts_list.moc.id,
                "moc_title": parts_list.moc.title,
                "title": parts_list.title,
                "status": parts_list.status,
                "built": parts_list.built,
                "purchased": parts_list.purchased,
                "inventory_percentage": parts_list.inventory_percentage,
                "total_parts_count": parts_list.total_parts_count,
                "updated_at": parts_list.updated_at,
            }
            for parts_list in recent
        ],
    }


_TAG_COUNTS_SQL = """
    SELECT tag, COUNT(DISTINCT m.id)
    FROM moc_instructions AS m
    CROSS JOIN LATERAL jsonb_array_elements_text(m.tags) AS tag
    WHERE m.user_id = %s AND m.type = %s AND jsonb_typeof(m.tags) = 'array'
    GROUP BY tag
"""


def stats_by_category(*, user_id: str) -> list[dict[str, Any]]:
    """SPEC M27: themes (MOCs and sets, case-sensitive) plus the tags of `type=moc` rows that match no theme
    case-insensitively; by count desc, then category asc (code-point order); the top 10."""
    theme_counts = dict(
        Moc.objects.filter(user_id=user_id)
        .exclude(theme__isnull=True)
        .exclude(theme="")
        .values("theme")
        .annotate(count=Count("id"))
        .values_list("theme", "count")
    )
    with connection.cursor() as cursor:
        cursor.execute(_TAG_COUNTS_SQL, [user_id, MocType.MOC])
        tag_counts = dict(cursor.fetchall())
    folded_themes = {theme.casefold() for theme in theme_counts}
    counts = dict(theme_counts)
    for tag, count in tag_counts.items():
        # A tag equal to a theme (any case) is that theme, already counted; it never becomes its own category.
        if tag and tag.casefold() not in folded_themes:
            counts[tag] = count
    ranked = sorted(((name, n) for name, n in counts.items() if n > 0), key=lambda item: (-item[1], item[0]))
    return [{"category": name, "count": n} for name, n in ranked[:TOP_CATEGORIES]]


def _month_start(moment: dt.datetime, months_back: int = 0) -> dt.datetime:
    month_index = moment.year * 12 + (moment.month - 1) - months_back
    return dt.datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=dt.UTC)


def stats_uploads_over_time(*, user_id: str, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """SPEC M28: the user's MOCs and sets created in the 12 calendar months (UTC) ending with the current one,
    counted per month and theme (null or empty is `Unknown`); by month, then category (code-point order)."""
    now = (now or timezone.now()).astimezone(dt.UTC)
    start, end = _month_start(now, MONTHS - 1), _month_start(now, -1)
    rows = (
        Moc.objects.filter(user_id=user_id, created_at__gte=start, created_at__lt=end)
        .annotate(
            month=TruncMonth("created_at", tzinfo=dt.UTC),
            category=Coalesce(NullIf("theme", Value("")), Value(UNKNOWN_THEME)),
        )
        .values("month", "category")
        .annotate(count=Count("id"))
        .values_list("month", "category", "count")
    )
    groups = sorted((month.strftime("%Y-%m"), category, count) for month, category, count in rows if count)
    return [{"date": date, "category": category, "count": count} for date, category, count in groups]
