"""Admin for wishlist items (SPEC §7.2). Every save, delete and bulk delete goes through the service functions, so the
cache bump, search indexing and the deletion of a replaced or orphaned uploaded image happen just as through the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from lego_api.core.casing import to_snake
from lego_api.core.errors import flatten_errors
from wishlist.models import WishlistItem
from wishlist.serializers import WISHLIST_EDITABLE_COLUMNS, WishlistItemWriteSerializer
from wishlist.services import wishlist_item_create, wishlist_item_delete, wishlist_item_update


class WishlistItemAdminForm(forms.ModelForm):
    """The model form, checked by the API's item field rules (trimming, lengths, http(s) URLs, the sortOrder range),
    so the admin cannot store what the API would refuse. A change checks only the fields it changes (an uploaded
    image's key is not a URL the API would accept). `item_data` is what the services receive."""

    class Meta:
        model = WishlistItem
        fields = ("user_id", *WISHLIST_EDITABLE_COLUMNS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "sort_order" in self.fields:
            self.fields["sort_order"].required = False  # left empty on add: the owner's highest + 1

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        adding = self.instance._state.adding
        names = [name for name in WishlistItemWriteSerializer().fields if name in self.fields]
        sent = [name for name in names if adding or name in self.changed_data]
        data = {name: cleaned.get(name) for name in sent if name not in self.errors}
        if data.get("sort_order") is None:
            data.pop("sort_order", None)
        payload = WishlistItemWriteSerializer(data=data, partial=not adding)
        if not payload.is_valid():
            for name, problems in flatten_errors(payload.errors).items():
                field = to_snake(name)
                self.add_error(field if field in self.fields else None, problems)
            return cleaned
        self.item_data = dict(payload.validated_data)
        cleaned.update(self.item_data)  # the instance gets the normalised values (trimmed, empty text as null)
        return cleaned


@admin.register(WishlistItem)
class WishlistItemAdmin(admin.ModelAdmin):
    form = WishlistItemAdminForm
    list_display = ("title", "user_id", "category", "sort_order")
    search_fields = ("title", "user_id")
    list_filter = ("category",)
    ordering = ("user_id", "sort_order", "created_at", "id")
    exclude = ("search_vector",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WishlistItem]:
        return super().get_queryset(request).defer("search_vector")

    def get_readonly_fields(self, request: HttpRequest, obj: WishlistItem | None = None) -> tuple[str, ...]:
        # The image size is the uploaded image's (W8), never typed in; the owner is chosen once, when adding.
        fields = ("id", "image_width", "image_height", "created_at", "updated_at")
        return fields if obj is None else (*fields, "user_id")

    def save_model(self, request: HttpRequest, obj: WishlistItem, form: WishlistItemAdminForm, change: bool) -> None:
        if change:
            wishlist_item_update(item=obj, data=form.item_data)
        else:
            created = wishlist_item_create(user_id=obj.user_id, data=form.item_data)
            obj.__dict__.update(created.__dict__)

    def delete_model(self, request: HttpRequest, obj: WishlistItem) -> None:
        wishlist_item_delete(item=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WishlistItem]) -> None:
        for item in queryset:
            wishlist_item_delete(item=item)
