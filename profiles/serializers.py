"""Profile representations (SPEC §3.12 Profile, U3/U4 `data`) and the U2 body rule. Keys are snake_case here; the
renderer camelCases them."""

from __future__ import annotations

import unicodedata
from typing import Any

from rest_framework import serializers

from profiles.avatars import avatar_url

NAME_MAX_LENGTH = 100
MSG_NAME_CHARACTERS = "Only letters, digits 0-9 and single spaces are allowed."
DIGITS = frozenset("0123456789")


def is_valid_name(value: str) -> bool:
    """SPEC §4.5 U2 (after trimming): Unicode letters, digits 0-9 and single spaces between them.

    Decision: a combining mark (Unicode category M) right after a letter or another mark counts as part of that
    letter, so that names written with combining accents or in scripts with vowel signs (Devanagari, Thai) pass.
    """
    previous = " "
    for char in value:
        category = unicodedata.category(char)
        if char == " ":
            if previous == " ":
                return False  # leading or double space
        elif not (
            category.startswith("L")
            or char in DIGITS
            or (category.startswith("M") and unicodedata.category(previous)[0] in "LM")
        ):
            return False
        previous = char
    return previous != " "


class ProfileNameField(serializers.CharField):
    """U2's `name`: trimmed, 1-100 characters, letters, digits 0-9 and single spaces."""

    default_error_messages = {"characters": MSG_NAME_CHARACTERS}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=NAME_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not is_valid_name(value):
            self.fail("characters")
        return value


class ProfileUpdateSerializer(serializers.Serializer):
    name = ProfileNameField()


class ProfileStatsSerializer(serializers.Serializer):  # `lego_api.core.counts.user_counts()`, as counted
    mocs = serializers.IntegerField()
    images = serializers.IntegerField()
    albums = serializers.IntegerField()
    wishlist_items = serializers.IntegerField(source="wishlistItems")


class AvatarUrlField(serializers.CharField):
    """A profile row's avatar as a readable URL (`?v=` behind a CDN); null without an avatar."""

    def __init__(self, *, source: str = "*", **kwargs: Any) -> None:
        super().__init__(source=source, read_only=True, allow_null=True, **kwargs)

    def to_representation(self, profile: Any) -> str | None:
        return avatar_url(profile, request=self.context.get("request"))


class ProfileSerializer(serializers.Serializer):
    """A user's profile: `id` is the user id; the stats are live counts; the timestamps are the profile's."""

    id = serializers.CharField(source="row.user_id")
    email = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    avatar_url = AvatarUrlField(source="row")
    stats = ProfileStatsSerializer()
    created_at = serializers.DateTimeField(source="row.created_at")
    updated_at = serializers.DateTimeField(source="row.updated_at")


class AvatarUploadRequestSerializer(serializers.Serializer):  # U3's multipart body
    avatar = serializers.FileField(required=False, help_text="The image (.jpg, .jpeg, .png, .gif, .webp; max 2 MB)")
    file = serializers.FileField(required=False, help_text="Alternative name of `avatar`")


class AvatarSerializer(serializers.Serializer):  # U3 `data`
    avatar_url = AvatarUrlField()


class AvatarDeletedSerializer(serializers.Serializer):  # U4 `data`: the SPEC §1.1 delete shape, `id` the user id
    id = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)
