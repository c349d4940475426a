"""Wishlist representations (SPEC §3.12 WishlistItem) and payload rules (SPEC §4.4 item fields, W4 reorder). Keys
are snake_case here; the parser and the renderer convert from and to camelCase."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from lego_api.core.fields import FileReferenceField, HttpUrlField, OptionalTextField, WholeNumberField
from lego_api.core.viewsets import DeletedSerializer
from wishlist.models import WishlistItem

SORT_ORDER_MAX = 1_000_000
REORDER_MAX_ITEMS = 1000
MSG_DUPLICATE_IDS = "Item ids must be unique."

# The columns an item's owner (or support staff in the admin) writes, in table order.
WISHLIST_EDITABLE_COLUMNS = ("title", "description", "product_link", "image_url", "category", "sort_order")


class WishlistItemSerializer(serializers.ModelSerializer):
    image_url = FileReferenceField(allow_null=True)

    class Meta:
        model = WishlistItem
        # Every column but the internal search_vector, in table order (SPEC §3.9, §3.12).
        fields = [
            "id",
            "user_id",
            "title",
            "description",
            "product_link",
            "image_url",
            "image_width",
            "image_height",
            "category",
            "sort_order",
            "created_at",
            "updated_at",
        ]


class WishlistItemDeletedSerializer(DeletedSerializer):  # W7 `data` (no docstring: it would become the description)
    pass


def sort_order_field(**kwargs: Any) -> WholeNumberField:
    """`sortOrder`: a whole number 0-1,000,000, a JSON integer or a string of digits (SPEC §3.9 decision)."""
    return WholeNumberField(min_value=0, max_value=SORT_ORDER_MAX, **kwargs)


# The item fields of W2 (create: `title` required) and W6 (partial: every field optional; null clears a nullable
# field). `validated_data` holds the model fields sent, ready for the services. (No docstring: drf-spectacular would
# publish it as the request body's description.)
class WishlistItemWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    description = OptionalTextField(max_length=1000)
    product_link = HttpUrlField()
    image_url = HttpUrlField(help_text="An external image; `imageWidth` and `imageHeight` become null.")
    category = OptionalTextField(max_length=100)
    sort_order = sort_order_field(
        required=False, help_text="On create, the default is the caller's highest sortOrder + 1 (0 for the first)."
    )


class WishlistItemOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sort_order = sort_order_field()


# W4: `items` (alias `itemOrders`), 1-1000 entries of `{id, sortOrder}` with unique ids.
class WishlistReorderSerializer(serializers.Serializer):
    # A ListField (not `many=True`): its own errors land on `items` itself, an entry's on `items.{i}.{field}`.
    items = serializers.ListField(
        child=WishlistItemOrderSerializer(),
        allow_empty=False,
        max_length=REORDER_MAX_ITEMS,
        help_text=f"1-{REORDER_MAX_ITEMS} entries with unique ids; `itemOrders` is accepted as an alias key.",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping) and "items" not in data and "item_orders" in data:
            data = {"items": data["item_orders"]}
        return super().to_internal_value(data)

    def validate_items(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any(count > 1 for count in Counter(item["id"] for item in items).values()):
            raise serializers.ValidationError(MSG_DUPLICATE_IDS)
        return items


class WishlistReorderedSerializer(serializers.Serializer):
    updated = serializers.IntegerField()


# W8's multipart body, for the schema only (the view reads the file with `one_file_part`).
class WishlistImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(required=False, help_text="The image (.jpg, .jpeg, .png, .webp; max 5 MB)")
    file = serializers.FileField(required=False, help_text="Alternative name of `image`")
