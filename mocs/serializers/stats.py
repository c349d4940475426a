"""Output of the MOC statistics (SPEC §4.2 M26-M28): the parts-lists summary, MOCs by category and uploads over
time. The views shape their `data` with these, and the same classes describe it in the OpenAPI document."""

from __future__ import annotations

from rest_framework import serializers


class PercentageField(serializers.FloatField):
    """A percentage as the service rounded it: a float, or the integer 0 when there is nothing to average."""

    def to_representation(self, value: float | int) -> float | int:
        return value if isinstance(value, int) else super().to_representation(value)


# No docstrings on the serializers below: drf-spectacular would publish them as component descriptions.


class PartsListsStatisticsSerializer(serializers.Serializer):
    total_parts_lists = serializers.IntegerField()
    built_count = serializers.IntegerField()
    purchased_count = serializers.IntegerField()
    average_inventory_percentage = PercentageField()


class RecentPartsListSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    moc_id = serializers.UUIDField()
    moc_title = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    built = serializers.BooleanField()
    purchased = serializers.BooleanField()
    inventory_percentage = serializers.FloatField()
    total_parts_count = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class PartsListsSummarySerializer(serializers.Serializer):  # M26 `data`
    statistics = PartsListsStatisticsSerializer()
    recent_parts_lists = RecentPartsListSerializer(many=True)


class CategoryCountSerializer(serializers.Serializer):  # an M27 row
    category = serializers.CharField()
    count = serializers.IntegerField()


class MonthCategoryCountSerializer(serializers.Serializer):  # an M28 row
    date = serializers.CharField(help_text="YYYY-MM")
    category = serializers.CharField()
    count = serializers.IntegerField()
