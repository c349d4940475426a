"""Admin for gallery images, albums and flags, and the "Flagged images" moderation view (SPEC §7.2). Every save,
delete, bulk delete and action goes through the gallery services, so object deletes, cache bumps and search indexing
happen just as through the API. Images and albums arrive through the API, so they cannot be added here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.html import format_html
from rest_framework import serializers

from gallery.models import FlaggedImage, GalleryAlbum, GalleryFlag, GalleryImage, ProcessingStatus
from gallery.serializers.albums import GalleryAlbumWriteSerializer
from gallery.serializers.images import GalleryImageWriteSerializer
from gallery.services.albums import MSG_COVER_NOT_FOUND, album_delete, album_queryset, album_update
from gallery.services.images import MSG_ALBUM_NOT_FOUND, image_delete, image_update
from gallery.services.moderation import images_delete, images_dismiss_flags, images_mark_flagged
from lego_api.core.casing import to_snake
from lego_api.core.errors import flatten_errors
from lego_api.core.storage import render_url

PREVIEW_WIDTH = 80
READ_ONLY_IMAGE_FIELDS = (
    "id",
    "user_id",
    "image_url",
    "thumbnail_url",
    "processing_status",
    "processing_error",
    "created_at",
    "last_updated_at",
)


def validated_changes(
    form: forms.ModelForm, serializer_class: type[serializers.Serializer], names: tuple[str, ...]
) -> dict[str, Any]:
    """The changed fields among `names`, checked by the API's payload rules (trimming, lengths, tags); a problem is
    added to the form's field. Returns the validated values, snake_case, ready for the service."""
    sent = {
        name: form.cleaned_data.get(name) for name in names if name in form.changed_data and name not in form.errors
    }
    payload = serializer_class(data=sent, partial=True)
    if payload.is_valid():
        return dict(payload.validated_data)
    for name, problems in flatten_errors(payload.errors).items():
        field = to_snake(name)
        form.add_error(field if field in form.fields else None, problems)
    return {}


def owned_reference(form: forms.ModelForm, field: str, message: str) -> dict[str, Any]:
    """`{field}_id` for the service when the reference `field` changed: none, or a row of the instance's owner (another
    user's is refused as the API refuses it)."""
    if field not in form.changed_data:
        return {}
    row = form.cleaned_data.get(field)
    if row is not None and row.user_id != form.instance.user_id:
        form.add_error(field, message)
        return {}
    return {f"{field}_id": row.pk if row is not None else None}


# --- Images ---------------------------------------------------------------------------------------------------------


class GalleryImageAdminForm(forms.ModelForm):
    """`image_data` is what `image_update` receives: the changed fields, checked as G5 checks them."""

    class Meta:
        model = GalleryImage
        fields = ("title", "description", "tags", "album", "flagged")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.image_data = validated_changes(self, GalleryImageWriteSerializer, ("title", "description", "tags"))
        self.image_data.update(owned_reference(self, "album", MSG_ALBUM_NOT_FOUND))
        if "flagged" in self.changed_data:
            self.image_data["flagged"] = cleaned.get("flagged", False)
        return cleaned


class GalleryFlagInline(admin.TabularInline):
    """The image's flags, as its users reported them (dismissed from the moderation view)."""

    model = GalleryFlag
    extra = 0
    can_delete = False
    fields = ("user_id", "reason", "created_at")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ImageAdminBase(admin.ModelAdmin):
    """What both image admins share: the thumbnail preview, no adding (images arrive through G1), and deletes (one
    and bulk) through the API's image delete: flags and links cascade, objects go after commit."""

    @admin.display(description="preview")
    def preview(self, image: GalleryImage) -> str:
        """The thumbnail from its stored URL (escaped); the processing status until the image has one."""
        if image.processing_status != ProcessingStatus.READY:
            return image.get_processing_status_display()
        url = render_url(image.thumbnail_url)
        return format_html('<img src="{}" alt="{}" width="{}" loading="lazy">', url, image.title, PREVIEW_WIDTH)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: GalleryImage) -> None:
        image_delete(image=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[GalleryImage]) -> None:
        images_delete(image_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(GalleryImage)
class GalleryImageAdmin(ImageAdminBase):
    form = GalleryImageAdminForm
    list_display = ("preview", "title", "user_id", "album", "processing_status", "flagged", "created_at")
    list_display_links = ("title",)
    search_fields = ("title", "user_id")
    list_filter = ("processing_status", "flagged")
    list_select_related = ("album",)
    ordering = ("-created_at", "id")
    raw_id_fields = ("album",)
    fields = (
        "id",
        "user_id",
        "preview",
        "title",
        "description",
        "tags",
        "album",
        "flagged",
        *READ_ONLY_IMAGE_FIELDS[2:],
    )
    readonly_fields = ("preview", *READ_ONLY_IMAGE_FIELDS)
    inlines = (GalleryFlagInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[GalleryImage]:
        return super().get_queryset(request).defer("search_vector")

    def save_model(self, request: HttpRequest, obj: GalleryImage, form: GalleryImageAdminForm, change: bool) -> None:
        if form.image_data:
            image_update(image=obj, data=form.image_data)


# --- The moderation view --------------------------------------------------------------------------------------------


@admin.register(FlaggedImage)
class FlaggedImageAdmin(ImageAdminBase):
    """Images with at least one flag, the most recently flagged first; moderators act on them in bulk."""

    list_display = ("preview", "title", "user_id", "flag_count", "latest_reason", "flagged")
    list_display_links = ("title",)
    search_fields = ("title", "user_id")
    list_filter = ("flagged",)
    actions = ("mark_as_flagged", "dismiss_flags", "delete_images")
    inlines = (GalleryFlagInline,)
    fields = ("id", "user_id", "preview", "title", "description", "flagged", "processing_status")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FlaggedImage]:
        flags = GalleryFlag.objects.filter(image_id=OuterRef("pk")).order_by("-created_at", "-id")
        images = super().get_queryset(request).defer("search_vector").filter(Exists(flags))
        return images.annotate(
            flag_count=Count("flags"),
            latest_reason=Subquery(flags.values("reason")[:1]),
            latest_flagged_at=Subquery(flags.values("created_at")[:1]),
        ).order_by("-latest_flagged_at", "id")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "Delete images" is this view's delete
        return actions

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # moderators act through the actions; edits are the image admin's

    @admin.display(description="flags", ordering="flag_count")
    def flag_count(self, image: FlaggedImage) -> int:
        return image.flag_count

    @admin.display(description="latest reason")
    def latest_reason(self, image: FlaggedImage) -> str | None:
        return image.latest_reason

    def _done(self, request: HttpRequest, count: int, verb: str) -> None:
        self.message_user(request, f"{count} image(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Mark as flagged")
    def mark_as_flagged(self, request: HttpRequest, queryset: QuerySet[FlaggedImage]) -> None:
        self._done(request, images_mark_flagged(image_ids=queryset.values_list("pk", flat=True)), "marked as flagged")

    @admin.action(description="Dismiss flags")
    def dismiss_flags(self, request: HttpRequest, queryset: QuerySet[FlaggedImage]) -> None:
        self._done(request, images_dismiss_flags(image_ids=queryset.values_list("pk", flat=True)), "cleared of flags")

    @admin.action(description="Delete images")
    def delete_images(self, request: HttpRequest, queryset: QuerySet[FlaggedImage]) -> None:
        self._done(request, images_delete(image_ids=queryset.values_list("pk", flat=True)), "deleted")


# --- Albums and flags -----------------------------------------------------------------------------------------------


class GalleryAlbumAdminForm(forms.ModelForm):
    """`album_data` is what `album_update` receives: the changed fields, checked as G12 checks them."""

    class Meta:
        model = GalleryAlbum
        fields = ("title", "description", "cover_image")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.album_data = validated_changes(self, GalleryAlbumWriteSerializer, ("title", "description"))
        self.album_data.update(owned_reference(self, "cover_image", MSG_COVER_NOT_FOUND))
        return cleaned


@admin.register(GalleryAlbum)
class GalleryAlbumAdmin(admin.ModelAdmin):
    form = GalleryAlbumAdminForm
    list_display = ("title", "user_id", "image_count", "created_at")
    search_fields = ("title", "user_id")
    ordering = ("-created_at", "id")
    raw_id_fields = ("cover_image",)
    fields = ("id", "user_id", "title", "description", "cover_image", "image_count", "created_at", "last_updated_at")
    readonly_fields = ("id", "user_id", "image_count", "created_at", "last_updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[GalleryAlbum]:
        return album_queryset()  # image_count in the same query

    @admin.display(description="image count", ordering="image_count")
    def image_count(self, album: GalleryAlbum) -> int:
        return album.image_count

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: GalleryAlbum, form: GalleryAlbumAdminForm, change: bool) -> None:
        if form.album_data:
            album_update(album=obj, data=form.album_data)

    def delete_model(self, request: HttpRequest, obj: GalleryAlbum) -> None:
        album_delete(album=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[GalleryAlbum]) -> None:
        for album in queryset:
            album_delete(album=album)


@admin.register(GalleryFlag)
class GalleryFlagAdmin(admin.ModelAdmin):
    """Users' reports, read-only. Deleting one has no effect beyond its row (no cache or index reads flags)."""

    list_display = ("image", "user_id", "reason", "created_at")
    search_fields = ("reason", "user_id")
    list_filter = ("created_at",)
    ordering = ("-created_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[GalleryFlag]:
        return super().get_queryset(request).select_related("image").defer("image__search_vector")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
