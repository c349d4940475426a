"""MOC-gallery link payloads and results (SPEC §4.2 M14-M16). Keys are snake_case here; the renderer camelCases
them. A serializer's docstring becomes its component's description in the OpenAPI document, so some are described
in comments."""

from __future__ import annotations

from rest_framework import serializers

from gallery.serializers.images import GalleryImageSerializer
from mocs.models import MocGalleryImage


# M14's body: one of the caller's gallery images.
class GalleryImageLinkSerializer(serializers.Serializer):
    gallery_image_id = serializers.UUIDField()


# M14 `data`.
class MocGalleryImageLinkSerializer(serializers.ModelSerializer):
    moc_id = serializers.UUIDField(read_only=True)
    gallery_image_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = MocGalleryImage
        fields = ["id", "moc_id", "gallery_image_id", "created_at"]


class LinkedGalleryImageSerializer(GalleryImageSerializer):
    """A GalleryImage linked to a MOC, with the link's id and time (`linkedAt` is the link's `createdAt`)."""

    link_id = serializers.UUIDField()
    linked_at = serializers.DateTimeField()

    class Meta(GalleryImageSerializer.Meta):
        fields = [*GalleryImageSerializer.Meta.fields, "link_id", "linked_at"]

    def to_representation(self, link: MocGalleryImage) -> dict:
        image = link.gallery_image
        image.link_id, image.linked_at = link.id, link.created_at
        return super().to_representation(image)


# M16 `data`: the link that went and the image it named.
class GalleryImageUnlinkedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    gallery_image_id = serializers.UUIDField()
