"""MOC representations (SPEC §3.12) and the MocWrite payload rules (SPEC §4.2). Keys are snake_case here; the
renderer camelCases them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils import timezone
from rest_framework import serializers

from lego_api.core.casing import to_snake
from lego_api.core.fields import (
    FileReferenceField,
    HttpUrlField,
    NullableBooleanField,
    OptionalTextField,
    StrictIntegerField,
    TagsField,
    TrimmedChoiceField,
    UtcDateTimeField,
)
from lego_api.core.storage import render_url
from lego_api.core.viewsets import DeletedSerializer
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType, MocGalleryImage, MocPart, MocPartsList, MocType

# The columns a MOC's owner (or support staff in the admin) writes, in table order.
MOC_EDITABLE_COLUMNS = (
    "user_id",
    "type",
    "title",
    "description",
    "author",
    "parts_count",
    "theme",
    "subtheme",
    "uploaded_date",
    "brand",
    "set_number",
    "release_year",
    "retired",
    "tags",
    "thumbnail_url",
)


class MocSerializer(serializers.ModelSerializer):
    thumbnail_url = FileReferenceField(allow_null=True)

    class Meta:
        model = Moc
        # Every column but the internal search_vector, in table order (SPEC §3.4, §3.12).
        fields = ["id", *MOC_EDITABLE_COLUMNS, "total_piece_count", "created_at", "updated_at"]


class MocDeletedSerializer(DeletedSerializer):  # M6 `data` (no docstring: it would become the schema's description)
    pass


class MocFileSerializer(serializers.ModelSerializer):
    moc_id = serializers.UUIDField(read_only=True)
    file_url = FileReferenceField(filename_source="original_filename")

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


def image_refs(
    files: list[MocFile], links: list[MocGalleryImage] = (), request: HttpRequest | None = None
) -> list[dict[str, Any]]:
    """MocDetail `images`: the thumbnail file, then gallery-image files by createdAt, then the linked gallery images
    in link order (`links` with their `gallery_image` loaded)."""
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
    for link in links:
        image = link.gallery_image
        refs.append(
            {
                "id": link.id,
                "source": "gallery",
                "gallery_image_id": image.id,
                "url": render_url(image.image_url, request=request),
                "thumbnail_url": render_url(image.thumbnail_url, request=request),
                "alt": image.title,
                "caption": image.description,
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
        fields = [*MocSerializer.Meta.fields, "files", "images", "parts_lists"]

    def _ready_files(self, moc: Moc) -> list[MocFile]:
        files = [f for f in moc.files.all() if f.status == MocFileStatus.READY]
        return sorted(files, key=lambda f: (f.created_at, str(f.id)))

    def get_files(self, moc: Moc) -> list[dict[str, Any]]:
        return MocFileSerializer(self._ready_files(moc), many=True, context=self.context).data

    def get_images(self, moc: Moc) -> list[dict[str, Any]]:
        # The links come prefetched in link order with their images (moc_detail_queryset): no query per link.
        links = list(moc.gallery_image_links.all())
        refs = image_refs(self._ready_files(moc), links, self.context.get("request"))
        return ImageRefSerializer(refs, many=True).data

    def get_parts_lists(self, moc: Moc) -> list[dict[str, Any]]:
        lists = sorted(moc.parts_lists.all(), key=lambda p: (p.created_at, str(p.id)))
        return MocPartsListSerializer(lists, many=True, context=self.context).data


# --- MocWrite (SPEC §4.2, §3.4, §1.4, §1.5) -----------------------------------------------------------------------

MOC_ONLY_FIELDS = ("author", "parts_count", "subtheme", "uploaded_date")
SET_ONLY_FIELDS = ("brand", "release_year", "retired")
REQUIRED_BY_TYPE = {
    MocType.MOC: ("author", "parts_count", "theme", "set_number"),
    MocType.SET: ("brand", "theme", "set_number"),
}


def _plain_dict(data: Any) -> dict[str, Any]:
    """A QueryDict (multipart) or a camelCase mapping -> a snake_case dict; repeated `tags` stay a list."""
    if isinstance(data, QueryDict):
        data = {key: (data.getlist(key) if to_snake(key) == "tags" else data.get(key)) for key in data}
    return {to_snake(key) if isinstance(key, str) else key: value for key, value in data.items()}


class MocWriteSerializer(serializers.Serializer):
    """The MocWrite payload (M2, M5, M7, M8). `validated_data` holds snake_case model fields, only those sent
    (minus fields of the other type sent as null), ready for `moc_create` / `moc_update`.

    Pass the MOC being updated as `context={"instance": moc}` (and `partial=True`); without it this is a create,
    where `type` is required. Field errors and the type rules are reported together.
    """

    type = TrimmedChoiceField(choices=MocType.choices, required=False, allow_null=True)
    title = OptionalTextField(max_length=255)
    description = OptionalTextField(max_length=5000)
    author = OptionalTextField(max_length=255)
    parts_count = StrictIntegerField(min_value=1, max_value=1_000_000)
    theme = OptionalTextField(max_length=255)
    subtheme = OptionalTextField(max_length=255)
    uploaded_date = UtcDateTimeField()
    brand = OptionalTextField(max_length=255)
    set_number = OptionalTextField(max_length=50)
    release_year = StrictIntegerField(min_value=1950)
    retired = NullableBooleanField()
    tags = TagsField()
    thumbnail_url = HttpUrlField()

    @property
    def target(self) -> Moc | None:
        return self.instance if self.instance is not None else self.context.get("instance")

    def validate_release_year(self, value: int | None) -> int | None:
        latest = timezone.now().year + 2
        if value is not None and value > latest:
            raise serializers.ValidationError(f"Ensure this value is less than or equal to {latest}.")
        return value

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": ["Expected an object."]})
        raw = _plain_dict(data)
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        # Every field is checked even when another fails, so one response lists every problem.
        for name, field in self.fields.items():
            if name not in raw:
                continue
            try:
                value = field.run_validation(raw[name])
                validate_method = getattr(self, f"validate_{name}", None)
                values[name] = validate_method(value) if validate_method else value
            except serializers.ValidationError as exc:
                errors[name] = [str(message) for message in exc.detail]
        self._check_title(raw, values, errors)
        moc_type = self._resolve_type(raw, values, errors)
        if moc_type is not None:
            self._apply_type_rules(moc_type, raw, values, errors)
        if errors:
            raise serializers.ValidationError(errors)
        return values

    def _check_title(self, raw: dict[str, Any], values: dict[str, Any], errors: dict[str, list[str]]) -> None:
        if "title" in errors:
            return
        if "title" not in raw:
            if self.target is None:
                errors["title"] = ["This field is required."]
        elif values.get("title") is None:
            errors["title"] = [
                "This field may not be null." if raw["title"] is None else "This field may not be blank."
            ]

    def _resolve_type(self, raw: dict[str, Any], values: dict[str, Any], errors: dict[str, list[str]]) -> str | None:
        """The row's type: the sent one on create (required), the stored one on update (immutable)."""
        target = self.target
        if target is None:
            if "type" in errors:
                return None
            if values.get("type") is None:
                errors["type"] = ["This field may not be null." if "type" in raw else "This field is required."]
                return None
            return values["type"]
        if "type" in raw:
            errors.pop("type", None)
            sent = raw["type"].strip() if isinstance(raw["type"], str) else raw["type"]
            if sent != target.type:
                errors["type"] = ["type cannot be changed"]
            values.pop("type", None)
        return target.type

    def _apply_type_rules(
        self, moc_type: str, raw: dict[str, Any], values: dict[str, Any], errors: dict[str, list[str]]
    ) -> None:
        """SPEC §3.4: other-type fields must be absent or null; required fields present (create) and never null."""
        creating = self.target is None
        other_fields = SET_ONLY_FIELDS if moc_type == MocType.MOC else MOC_ONLY_FIELDS
        for name in other_fields:
            if name not in raw:
                continue
            value = raw[name]
            if value is None or (isinstance(value, str) and not value.strip()):
                values.pop(name, None)
            else:
                errors[name] = [f"Not allowed for type {moc_type}"]
        for name in REQUIRED_BY_TYPE[moc_type]:
            if name in errors:
                continue
            if name not in raw:
                if creating:
                    errors[name] = ["This field is required."]
                continue
            if values.get(name) is None:
                errors[name] = ["This field may not be null." if raw[name] is None else "This field may not be blank."]
        if moc_type == MocType.SET and "retired" in values and values["retired"] is None:
            values["retired"] = False  # a set's `retired` defaults to false (SPEC §3.4)
