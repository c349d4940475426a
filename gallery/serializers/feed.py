"""The G14 feed page (SPEC §4.3): `{items, nextCursor, hasMore}`, each item a GalleryAlbum with `"type": "album"`
or a GalleryImage with `"type": "image"`. In the OpenAPI document an item is a oneOf of the two, discriminated by
`type`."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from gallery.models import GalleryAlbum, GalleryImage
from gallery.serializers.albums import GalleryAlbumSerializer
from gallery.serializers.images import GalleryImageSerializer
from gallery.services.feed import ALBUM, IMAGE


@extend_schema_field(OpenApiTypes.STR)
class FeedItemTypeField(serializers.Field):
    """The item's kind, the same for every row of a serializer (the discriminator of the document's oneOf)."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(source="*", read_only=True, help_text=f"Always `{kind}`.", **kwargs)

    def to_representation(self, value: Any) -> str:
        return self.kind


class GalleryFeedAlbumSerializer(GalleryAlbumSerializer):
    type = FeedItemTypeField(ALBUM)

    class Meta(GalleryAlbumSerializer.Meta):
        fields = ["type", *GalleryAlbumSerializer.Meta.fields]


class GalleryFeedImageSerializer(GalleryImageSerializer):
    type = FeedItemTypeField(IMAGE)

    class Meta(GalleryImageSerializer.Meta):
        fields = ["type", *GalleryImageSerializer.Meta.fields]


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="GalleryFeedItem",
        serializers=[GalleryFeedAlbumSerializer, GalleryFeedImageSerializer],
        resource_type_field_name="type",
        many=False,
    )
)
class GalleryFeedItemField(serializers.Field):
    """An album or an image, shaped by its own serializer: one instance of each for the whole page, as a list
    serializer has one child (building a model serializer's fields costs more than using them)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    @cached_property
    def item_serializers(self) -> dict[type, serializers.Serializer]:
        return {
            GalleryAlbum: GalleryFeedAlbumSerializer(context=self.context),
            GalleryImage: GalleryFeedImageSerializer(context=self.context),
        }

    def to_representation(self, item: GalleryAlbum | GalleryImage) -> dict[str, Any]:
        return self.item_serializers[type(item)].to_representation(item)


class GalleryFeedPageSerializer(serializers.Serializer):
    """G14's `data` (a `gallery.services.feed.FeedPage`)."""

    items = serializers.ListField(child=GalleryFeedItemField())
    next_cursor = serializers.IntegerField(allow_null=True, help_text="`cursor + limit`, or null on the last page.")
    has_more = serializers.BooleanField()
