"""Album representations (SPEC §3.12 GalleryAlbum and the G11 detail) and the payload of G10 and G12. Keys are
snake_case here; the renderer camelCases them. The computed fields come from `gallery.services.albums.album_queryset`
(annotations), so a page of albums costs no query per album."""

from __future__ import annotations

from rest_framework import serializers

from gallery.models import GalleryAlbum
from gallery.serializers.images import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, GalleryImageSerializer
from lego_api.core.fields import FileReferenceField, OptionalTextField
from lego_api.core.viewsets import DeletedSerializer


class GalleryAlbumSerializer(serializers.ModelSerializer):
    cover_image_id = serializers.UUIDField(read_only=True, allow_null=True)
    image_count = serializers.IntegerField(read_only=True)
    # Null without a cover; the cover's own URLs otherwise (images are served inline, SPEC §5.3).
    cover_image_url = FileReferenceField(source="cover_image_key", read_only=True, allow_null=True)
    cover_thumbnail_url = FileReferenceField(source="cover_thumbnail_key", read_only=True, allow_null=True)

    class Meta:
        model = GalleryAlbum
        # The columns in table order, then the computed fields (SPEC §3.1, §3.12).
        fields = [
            "id",
            "user_id",
            "title",
            "description",
            "cover_image_id",
            "created_at",
            "last_updated_at",
            "image_count",
            "cover_image_url",
            "cover_thumbnail_url",
        ]


class GalleryAlbumDetailSerializer(GalleryAlbumSerializer):
    """G11: the album plus `images`, its 100 newest (prefetched as `newest_images`)."""

    images = GalleryImageSerializer(source="newest_images", many=True, read_only=True)

    class Meta(GalleryAlbumSerializer.Meta):
        fields = [*GalleryAlbumSerializer.Meta.fields, "images"]


class GalleryAlbumDeletedSerializer(DeletedSerializer):  # G13 `data` (no docstring: it would become the description)
    pass


class GalleryAlbumWriteSerializer(serializers.Serializer):
    """G10's and G12's body. `validated_data` holds the snake_case model fields that were sent; whether the cover is
    one of the caller's images is the service's rule (400 `Cover image not found`)."""

    title = serializers.CharField(max_length=TITLE_MAX_LENGTH)  # trimmed; required on create, never blank or null
    description = OptionalTextField(max_length=DESCRIPTION_MAX_LENGTH)
    cover_image_id = serializers.UUIDField(required=False, allow_null=True)
