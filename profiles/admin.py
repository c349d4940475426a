"""Admin for profiles (SPEC §7.2)."""

from django.contrib import admin

from profiles.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user_id", "email", "name", "updated_at")
    search_fields = ("user_id", "email", "name")
    readonly_fields = ("id", "user_id", "created_at", "updated_at")
