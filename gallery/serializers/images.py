"""Gallery image and flag representations (SPEC §3.12 GalleryImage, GalleryFlag) and the payload rules of G1, G5, G7
and G8 (SPEC §4.3). Keys are snake_case here; the renderer camelCases them."""

from __future__ import annotations

from rest_framework import serializers

from gallery.models import GalleryFlag, GalleryImage
from lego_api.core.fields import FileReferenceField, OptionalTextField, TagsField
from lego_api.core.viewsets import DeletedSerializer

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 1000
MSG_TITLE_REQUIRED = "This field may not be blank."

# --- Output ---------------------------------------------------------------------------------------------------------


class GalleryImageSerializer(serializers.ModelSerializer):
    # Final URLs from the upload on, even while processing is pending (SPEC §3.12); images are served inline.
    image_url = FileReferenceField()
    thumbnail_url = FileReferenceField()
    album_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = GalleryImage
        # Every column but the internal staging_key and search_vector, in table order (SPEC §3.2, §3.12).
        fields = [
            "id",
            "user_id",
            "title",
            "description",
            "tags",
            "image_url",
            "thumbnail_url",
            "album_id",
            "flagged",
            "processing_status",
            "processing_error",
            "created_at",
            "last_updated_at",
        ]


class GalleryImageDeletedSerializer(DeletedSerializer):  # G6 `data` (no docstring: it would become the description)
    pass


class GalleryFlagSerializer(serializers.ModelSerializer):
    image_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = GalleryFlag
        fields = ["id", "image_id", "user_id", "reason", "created_at", "last_updated_at"]


# --- Input ----------------------------------------------------------------------------------------------------------


class GalleryImageWriteSerializer(serializers.Serializer):
    """G5's body (and G1's text fields): `validated_data` holds the snake_case model fields that were sent, with
    `album_id` a UUID or None; whether the album is the caller's is the service's rule (400 `Album not found`)."""

    title = OptionalTextField(max_length=TITLE_MAX_LENGTH)
    description = OptionalTextField(max_length=DESCRIPTION_MAX_LENGTH)
    tags = TagsField()
    album_id = serializers.UUIDField(required=False, allow_null=True)

    def validate_title(self, value: str | None) -> str:
        if value is None:  # G5: a title is 1-200 characters, never null
            raise serializers.ValidationError(MSG_TITLE_REQUIRED)
        return value


class GalleryImageUploadSerializer(GalleryImageWriteSerializer):
    """G1's multipart fields: the file under `image` or `file`, and optional text fields. The title defaults to the
    file name without its extension (SPEC §4.3), so an empty one is no error here."""

    image = serializers.FileField(required=False, help_text="The image (.jpg, .jpeg, .png, .webp; max 10 MB).")
    file = serializers.FileField(required=False, help_text="Alternative name of `image`.")

    def validate_title(self, value: str | None) -> str | None:
        return value


class GalleryFlagWriteSerializer(serializers.Serializer):
    """G7's body: an optional reason (trimmed, empty is null)."""

    reason = OptionalTextField(max_length=REASON_MAX_LENGTH)


class GalleryFlagAliasWriteSerializer(GalleryFlagWriteSerializer):
    """G8's body: the flagged image (any user's) and an optional reason."""

    image_id = serializers.UUIDField()
