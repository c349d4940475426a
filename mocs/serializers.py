"""MOC representations (SPEC §3.12) and the MocWrite payload rules (SPEC §4.2). Keys are snake_case here; the
renderer camelCases them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from lego_api.core.storage import render_url
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType, MocPart, MocPartsList


class FileReferenceField(serializers.CharField):
    """A file-reference column rendered as a readable URL (SPEC §5.3)."""

    def to_representation(self, value: str | None) -> str | None:
        return render_url(value, request=self.context.get("request"))


class MocSerializer(serializers.ModelSerializer):
    thumbnail_url = FileReferenceField(allow_null=True)

    class Meta:
        model = Moc
        exclude = ["search_vector"]


class MocFileSerializer(serializers.ModelSerializer):
    moc_id = serializers.UUIDField(read_only=True)
    file_url = FileReferenceField()

    class Meta:
        model = MocFile
        fields = [
            "id",
            "moc_id",
            "file_type",
            "file_url",
            "original_filename",
            "mime_type",
            "file_size",
            "status",
            "created_at",
        ]


class MocPartsListSerializer(serializers.ModelSerializer):
    moc_id = serializers.UUIDField(read_only=True)
    file_id = serializers.UUIDField(read_only=True, allow_null=True)
    inventory_percentage = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    cost_estimate = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=False, allow_null=True)
    actual_cost = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=False, allow_null=True)

    class Meta:
        model = MocPartsList
        fields = [
            "id",
            "moc_id",
            "file_id",
            "title",
            "description",
            "status",
            "format",
            "error_details",
            "built",
            "purchased",
            "inventory_percentage",
            "total_parts_count",
            "unique_parts_count",
            "row_count",
            "acquired_parts_count",
            "cost_estimate",
            "actual_cost",
            "notes",
            "created_at",
            "updated_at",
        ]


class MocPartSerializer(serializers.ModelSerializer):
    parts_list_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = MocPart
        fields = [
            "id",
            "parts_list_id",
            "part_id",
            "part_name",
            "color",
            "quantity",
            "category",
            "is_spare",
            "line_number",
        ]


class ImageRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    source = serializers.ChoiceField(choices=["file", "gallery"])
    gallery_image_id = serializers.UUIDField(allow_null=True)
    url = serializers.CharField()
    thumbnail_url = serializers.CharField()
    alt = serializers.CharField(allow_null=True)
    caption = serializers.CharField(allow_null=True)


def image_refs(files: list[MocFile], request=None) -> list[dict[str, Any]]:
    """MocDetail `images`: the thumbnail file, then gallery-image files by createdAt (linked gallery images come
    with the gallery issue)."""
    ordered = [f for f in files if f.file_type == MocFileType.THUMBNAIL] + [
        f for f in files if f.file_type == MocFileType.GALLERY_IMAGE
    ]
    refs = []
    for file in ordered:
        url = render_url(file.file_url, request=request)
        refs.append(
            {
                "id": file.id,
                "source": "file",
                "gallery_image_id": None,
                "url": url,
                "thumbnail_url": url,
                "alt": file.original_filename,
                "caption": None,
            }
        )
    return refs


class MocDetailSerializer(MocSerializer):
    """Moc plus `files` (ready only), `images` and `partsLists`. Expects `files` and `parts_lists` prefetched
    (see `mocs.services.moc_detail_queryset`) so the query count does not grow with them."""

    files = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()
    parts_lists = serializers.SerializerMethodField()

    class Meta(MocSerializer.Meta):
        pass

    def _ready_files(self, moc: Moc) -> list[MocFile]:
        files = [f for f in moc.files.all() if f.status == MocFileStatus.READY]
        return sorted(files, key=lambda f: (f.created_at, str(f.id)))

    def get_files(self, moc: Moc) -> list[dict[str, Any]]:
        return MocFileSerializer(self._ready_files(moc), many=True, context=self.context).data

    def get_images(self, moc: Moc) -> list[dict[str, Any]]:
        return ImageRefSerializer(image_refs(self._ready_files(moc), self.context.get("request")), many=True).data

    def get_parts_lists(self, moc: Moc) -> list[dict[str, Any]]:
        lists = sorted(moc.parts_lists.all(), key=lambda p: (p.created_at, str(p.id)))
        return MocPartsListSerializer(lists, many=True, context=self.context).data
