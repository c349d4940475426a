"""Admin for profiles (SPEC §7.2): list, search, the avatar shown on the change page; every save, delete and action
goes through the services, so Cognito, storage and cache bumps happen just as through the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from lego_api.core.errors import flatten_errors
from lego_api.core.exceptions import ServiceUnavailable
from profiles.avatars import avatar_delete, avatar_url
from profiles.models import Profile
from profiles.serializers import ProfileUpdateSerializer
from profiles.services import identity_set_name, profile_delete, profile_save

AVATAR_PREVIEW_SIZE = 128


class ProfileAdminForm(forms.ModelForm):
    """Email and name. A name follows U2's rule and goes to Cognito first (as U2 does); when Cognito refuses, the
    form shows the error and nothing is saved."""

    class Meta:
        model = Profile
        fields = ("email", "name")

    def clean_name(self) -> str | None:
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            return None  # the mirror's empty name: the identity provider's, if any, is shown
        payload = ProfileUpdateSerializer(data={"name": name})
        if not payload.is_valid():
            raise forms.ValidationError(flatten_errors(payload.errors)["name"])
        return payload.validated_data["name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        name = cleaned.get("name")
        if "name" in self.changed_data and name and "name" not in self.errors:
            try:
                identity_set_name(user_id=self.instance.user_id, name=name)
            except ServiceUnavailable as exc:
                self.add_error("name", exc.message)
        return cleaned


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    form = ProfileAdminForm
    list_display = ("user_id", "email", "name", "updated_at")
    search_fields = ("user_id", "email", "name")
    ordering = ("-updated_at", "id")
    fields = ("id", "user_id", "email", "name", "avatar", "avatar_url", "created_at", "updated_at")
    readonly_fields = ("id", "user_id", "avatar", "avatar_url", "created_at", "updated_at")
    actions = ("remove_avatars",)

    @admin.display(description="Avatar")
    def avatar(self, obj: Profile) -> str:
        url = avatar_url(obj)
        if not url:
            return "-"
        size = AVATAR_PREVIEW_SIZE
        return format_html('<img src="{}" width="{}" height="{}" alt="Avatar of {}">', url, size, size, obj.user_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a profile is made when its user first signs in

    def save_model(self, request: HttpRequest, obj: Profile, form: ProfileAdminForm, change: bool) -> None:
        if form.changed_data:
            profile_save(user_id=obj.user_id, changes={name: form.cleaned_data[name] for name in form.changed_data})

    def delete_model(self, request: HttpRequest, obj: Profile) -> None:
        profile_delete(profile=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Profile]) -> None:
        for profile in queryset:
            profile_delete(profile=profile)

    @admin.action(description="Remove avatars")
    def remove_avatars(self, request: HttpRequest, queryset: QuerySet[Profile]) -> None:
        users = list(queryset.values_list("user_id", flat=True))
        for user_id in users:
            avatar_delete(user_id=user_id)
        self.message_user(request, f"Avatars removed from {len(users)} profile(s).", messages.SUCCESS)
