"""Admin for MOCs, their files, parts lists and parts, and their gallery links (SPEC §7.2). Every save, delete, bulk delete and action goes
through the service functions, so storage, cache bumps and search indexing happen just as through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from lego_api.core.casing import to_snake
from lego_api.core.errors import flatten_errors
from lego_api.core.exceptions import ApiError
from lego_api.core.search.tasks import search_index
from mocs.models import Moc, MocFile, MocGalleryAlbum, MocGalleryImage, MocPart, MocPartsList
from mocs.serializers import MOC_EDITABLE_COLUMNS, MocWriteSerializer
from mocs.services.links import (
    MSG_GALLERY_ALBUM_NOT_FOUND,
    MSG_GALLERY_IMAGE_NOT_FOUND,
    moc_gallery_album_link,
    moc_gallery_album_unlink,
    moc_gallery_image_link,
    moc_gallery_image_unlink,
)
from mocs.services.mocs import DUPLICATE_TITLE, moc_create, moc_delete, moc_title_taken, moc_touch, moc_update

REINDEX_BATCH = 500  # the most ids one `search_index` call takes


class MocAdminForm(forms.ModelForm):
    """The model form, checked by the API's MocWrite rules (trimming, tags, the MOC/Set field rules), so the
    admin cannot store what the API would refuse. `moc_data` is what the services receive."""

    class Meta:
        model = Moc
        fields = MOC_EDITABLE_COLUMNS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        adding = self.instance._state.adding
        names = [name for name in MocWriteSerializer().fields if name in self.fields]
        sent = names if adding else [name for name in names if name in self.changed_data]
        payload = MocWriteSerializer(
            data={name: cleaned.get(name) for name in sent if name not in self.errors},
            partial=not adding,
            context={"instance": None if adding else self.instance},
        )
        if not payload.is_valid():
            for name, problems in flatten_errors(payload.errors).items():
                field = to_snake(name)
                self.add_error(field if field in self.fields else None, problems)
            return cleaned
        self.moc_data = dict(payload.validated_data)
        cleaned.update(self.moc_data)  # the instance gets the normalised values (trimmed, tags lower-cased)
        # Django skips the (user_id, title) constraint when user_id is read-only, so check it as the API does.
        owner = cleaned.get("user_id") if adding else self.instance.user_id
        title = self.moc_data.get("title")
        if (
            owner
            and title
            and moc_title_taken(user_id=owner, title=title, exclude_id=None if adding else self.instance.pk)
        ):
            self.add_error("title", DUPLICATE_TITLE)
        return cleaned


class MocFileInline(admin.TabularInline):
    """Files are listed here; they are added through the API and deleted from their own admin page."""

    model = MocFile
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("original_filename", "file_type", "status", "mime_type", "file_size", "created_at")
    readonly_fields = fields
    ordering = ("created_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MocPartsListInline(admin.TabularInline):
    model = MocPartsList
    extra = 0
    can_delete = False
    show_change_link = True
    fk_name = "moc"
    fields = ("title", "status", "format", "total_parts_count", "built", "purchased", "updated_at")
    readonly_fields = fields
    ordering = ("created_at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Moc)
class MocAdmin(admin.ModelAdmin):
    form = MocAdminForm
    list_display = ("title", "type", "user_id", "theme", "total_piece_count", "updated_at")
    search_fields = ("title", "user_id", "set_number", "author", "brand")
    list_filter = ("type", "theme", "retired", "created_at")
    ordering = ("-updated_at", "id")
    inlines = (MocFileInline, MocPartsListInline)
    exclude = ("search_vector",)
    actions = ("reindex_in_search", "reparse_parts_lists")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Moc]:
        return super().get_queryset(request).defer("search_vector")

    def get_readonly_fields(self, request: HttpRequest, obj: Moc | None = None) -> tuple[str, ...]:
        fields = ("id", "created_at", "updated_at", "total_piece_count")
        # The owner and the type are chosen once, when a MOC is added here (SPEC §4.2: `type` is immutable).
        return fields if obj is None else (*fields, "user_id", "type")

    def save_model(self, request: HttpRequest, obj: Moc, form: MocAdminForm, change: bool) -> None:
        if change:
            moc_update(moc=obj, data=form.moc_data)
        else:
            created = moc_create(user_id=obj.user_id, data=form.moc_data)
            obj.__dict__.update(created.__dict__)

    def delete_model(self, request: HttpRequest, obj: Moc) -> None:
        moc_delete(moc=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Moc]) -> None:
        for moc in queryset:
            moc_delete(moc=moc)

    @admin.action(description="Reindex in search")
    def reindex_in_search(self, request: HttpRequest, queryset: QuerySet[Moc]) -> None:
        ids = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        for start in range(0, len(ids), REINDEX_BATCH):
            search_index.delay("mocs", None, ids[start : start + REINDEX_BATCH])
        self.message_user(request, f"{len(ids)} MOC(s) queued for reindexing.", messages.SUCCESS)

    @admin.action(description="Re-parse parts lists")
    def reparse_parts_lists(self, request: HttpRequest, queryset: QuerySet[Moc]) -> None:
        parts_lists = MocPartsList.objects.filter(moc__in=queryset)
        _requeue(self, request, parts_lists)


def _requeue(model_admin: admin.ModelAdmin, request: HttpRequest, parts_lists: QuerySet[MocPartsList]) -> None:
    """Queue a parse of each list that has a source file (manual lists have nothing to parse)."""
    from mocs.services.parts_lists import parts_list_requeue

    queued = 0
    for parts_list in parts_lists.filter(file__isnull=False):
        parts_list_requeue(parts_list=parts_list)
        queued += 1
    skipped = parts_lists.filter(file__isnull=True).count()
    note = f" ({skipped} without a source file skipped)" if skipped else ""
    model_admin.message_user(request, f"{queued} parts list(s) queued for parsing{note}.", messages.SUCCESS)


@admin.register(MocFile)
class MocFileAdmin(admin.ModelAdmin):
    list_display = ("original_filename", "file_type", "status", "moc", "file_size", "created_at")
    search_fields = ("original_filename", "moc__title")
    list_filter = ("file_type", "status")
    list_select_related = ("moc",)
    fields = (
        "id",
        "moc",
        "file_type",
        "original_filename",
        "mime_type",
        "status",
        "file_url",
        "file_size",
        "created_at",
    )
    readonly_fields = ("id", "moc", "status", "file_url", "file_size", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files arrive through the API, where they are checked and stored

    def save_model(self, request: HttpRequest, obj: MocFile, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        moc_touch(moc=obj.moc)

    def delete_model(self, request: HttpRequest, obj: MocFile) -> None:
        from mocs.services.files import moc_file_delete

        moc_file_delete(moc=obj.moc, file_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MocFile]) -> None:
        for file in queryset.select_related("moc"):
            self.delete_model(request, file)


@admin.register(MocPartsList)
class MocPartsListAdmin(admin.ModelAdmin):
    list_display = ("title", "moc", "status", "format", "total_parts_count", "built", "purchased")
    search_fields = ("title", "moc__title")
    list_filter = ("status", "format", "built", "purchased")
    list_select_related = ("moc",)
    readonly_fields = (
        "id",
        "moc",
        "file",
        "status",
        "format",
        "error_details",
        "total_parts_count",
        "unique_parts_count",
        "row_count",
        "created_at",
        "updated_at",
    )
    actions = ("reparse",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # lists are uploaded or entered through the API

    def save_model(self, request: HttpRequest, obj: MocPartsList, form: forms.ModelForm, change: bool) -> None:
        from mocs.services.parts_lists import parts_list_update

        parts_list_update(parts_list=obj, data={name: form.cleaned_data[name] for name in form.changed_data})

    def delete_model(self, request: HttpRequest, obj: MocPartsList) -> None:
        from mocs.services.parts_lists import parts_list_delete

        parts_list_delete(moc=obj.moc, parts_list=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MocPartsList]) -> None:
        for parts_list in queryset.select_related("moc"):
            self.delete_model(request, parts_list)

    @admin.action(description="Re-parse")
    def reparse(self, request: HttpRequest, queryset: QuerySet[MocPartsList]) -> None:
        try:
            _requeue(self, request, queryset)
        except ApiError as exc:
            self.message_user(request, exc.message, messages.ERROR)


@admin.register(MocPart)
class MocPartAdmin(admin.ModelAdmin):
    """Parts are immutable (SPEC M23: upload a new file to change them), so this admin only shows them."""

    list_display = ("part_id", "color", "quantity", "is_spare", "parts_list")
    search_fields = ("part_id",)
    list_filter = ("is_spare",)
    raw_id_fields = ("parts_list",)
    list_select_related = ("parts_list",)
    show_full_result_count = False  # parts tables are large; skip the second COUNT(*)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MocPart | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: MocPart | None = None) -> bool:
        return False


# --- MOC-gallery links (SPEC §3.6; album links have no public route, so this is where they are managed) ------------


class MocGalleryLinkForm(forms.ModelForm):
    """A new link: the linked image or album must be the MOC owner's, as M14 requires of the caller's images. The
    admin sets `target_field` (the link's other side) and `target_not_found` (its message)."""

    target_field: str
    target_not_found: str

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        moc, target = cleaned.get("moc"), cleaned.get(self.target_field)
        if moc is not None and target is not None and target.user_id != moc.user_id:
            self.add_error(self.target_field, self.target_not_found)
        return cleaned


class MocGalleryLinkAdmin(admin.ModelAdmin):
    """A link is added or deleted, never changed; both go through the link services of `mocs.services.links`."""

    form = MocGalleryLinkForm
    target_field: str
    target_not_found: str
    link_service: Callable[..., Any]
    unlink_service: Callable[..., Any]
    ordering = ("-created_at", "id")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> type:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.target_field, form.target_not_found = self.target_field, self.target_not_found
        return form

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        return ("moc", self.target_field, "created_at")

    def get_list_select_related(self, request: HttpRequest) -> tuple[str, ...]:
        return ("moc", self.target_field)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("moc", self.target_field) if obj is None else ("id", "moc", self.target_field, "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return () if obj is None else ("id", "moc", self.target_field, "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _target(self, obj: Any) -> dict[str, Any]:
        """The service's keyword for the link's other side (`gallery_image_id=...`)."""
        name = f"{self.target_field}_id"
        return {name: getattr(obj, name)}

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        obj.__dict__.update(self.link_service(moc=obj.moc, **self._target(obj)).__dict__)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.unlink_service(moc=obj.moc, **self._target(obj))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for link in queryset.select_related("moc"):
            self.delete_model(request, link)


@admin.register(MocGalleryImage)
class MocGalleryImageAdmin(MocGalleryLinkAdmin):
    target_field, target_not_found = "gallery_image", MSG_GALLERY_IMAGE_NOT_FOUND
    raw_id_fields = ("moc", "gallery_image")
    link_service, unlink_service = staticmethod(moc_gallery_image_link), staticmethod(moc_gallery_image_unlink)


@admin.register(MocGalleryAlbum)
class MocGalleryAlbumAdmin(MocGalleryLinkAdmin):
    target_field, target_not_found = "gallery_album", MSG_GALLERY_ALBUM_NOT_FOUND
    raw_id_fields = ("moc", "gallery_album")
    link_service, unlink_service = staticmethod(moc_gallery_album_link), staticmethod(moc_gallery_album_unlink)
