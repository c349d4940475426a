"""User profile routes (SPEC §4.5 U1-U4). `{id}` is opaque text: the caller's `sub`, or `me`; any other id is 403
`You can only access your own profile`, before the body is read (SPEC §2.1 step 8). Every response under
`/api/users/` with status >= 400 counts toward the auth rate limit (the limiter does that by path)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lego_api.core.cache import CachedResult, cached_success
from lego_api.core.envelope import success
from lego_api.core.exceptions import Forbidden
from lego_api.core.ratelimit import UPLOAD, limit_category
from lego_api.core.schema import CACHE_HEADERS, envelope
from lego_api.core.uploads import FilePartsParser, one_file_part
from profiles.avatars import avatar_delete, avatar_upload
from profiles.serializers import (
    AvatarDeletedSerializer,
    AvatarSerializer,
    AvatarUploadRequestSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
)
from profiles.services import PROFILE_FAMILY, profile_get, profile_rename

ME = "me"
MSG_NOT_YOURS = "You can only access your own profile"
AVATAR_FIELDS = ("avatar", "file")
# SPEC §6.1 `profile:{uid}:{vP}.{vM}.{vG}.{vW}`: the stats depend on every family.
PROFILE_CACHE_FAMILIES = (PROFILE_FAMILY, "mocs", "gallery", "wishlist")
PROFILE_CACHE_TTL = 600

USER_ID = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description="The caller's user id (the token's `sub`), or `me`."
)
PROFILE_ENVELOPE = envelope(ProfileSerializer, name="ProfileEnvelope")
UPDATED_ENVELOPE = envelope(ProfileSerializer, message=True, name="ProfileUpdatedEnvelope")
UPDATE_SCHEMA = {
    "description": (
        "Body `{name}`: 1-100 characters, letters, digits 0-9 and single spaces, trimmed. The identity provider is "
        "updated first (503 `Identity service unavailable` when it fails), then the profile."
    ),
    "parameters": [USER_ID],
    "request": ProfileUpdateSerializer,
    "responses": {200: UPDATED_ENVELOPE},
}


def own_user_id(request: Request, path_id: str) -> str:
    """The caller's id when the path names them (their `sub` or `me`), else 403."""
    user_id = request.user.id
    if path_id not in (ME, user_id):
        raise Forbidden(MSG_NOT_YOURS)
    return user_id


def profile_data(request: Request, user_id: str) -> CachedResult:
    found = profile_get(user_id=user_id)
    data = ProfileSerializer(found, context={"request": request}).data
    return CachedResult(data=data, cacheable=not found.degraded)


class ProfileView(APIView):
    """U1 `GET`, U2 `PATCH|PUT /api/users/{id}`."""

    @extend_schema(
        operation_id="users_retrieve",
        summary="Get your profile (U1)",
        description=(
            "Your email and name from the identity provider (else as last mirrored), your avatar, and live counts of "
            "your MOCs and sets, images, albums and wishlist items. 404 `User not found` when the identity provider "
            "does not know you."
        ),
        parameters=[USER_ID, *CACHE_HEADERS],
        responses={200: PROFILE_ENVELOPE},
    )
    def get(self, request: Request, id: str) -> Response:
        user_id = own_user_id(request, id)
        return cached_success(
            name="profile",
            user_id=user_id,
            families=PROFILE_CACHE_FAMILIES,
            ttl=PROFILE_CACHE_TTL,
            compute=lambda: profile_data(request, user_id),
        )

    @extend_schema(operation_id="users_partial_update", summary="Rename yourself (U2)", **UPDATE_SCHEMA)
    def patch(self, request: Request, id: str) -> Response:
        user_id = own_user_id(request, id)
        payload = ProfileUpdateSerializer(data=request.data, partial=True)  # PATCH and PUT: partial (SPEC §1.6)
        payload.is_valid(raise_exception=True)
        if "name" in payload.validated_data:
            profile_rename(user_id=user_id, name=payload.validated_data["name"])
        return success(profile_data(request, user_id).data, message="Profile updated successfully")

    @extend_schema(operation_id="users_update", summary="Rename yourself (U2, PUT = PATCH)", **UPDATE_SCHEMA)
    def put(self, request: Request, id: str) -> Response:
        return self.patch(request, id)


class AvatarView(APIView):
    """U3 `POST`, U4 `DELETE /api/users/{id}/avatar`."""

    parser_classes = [FilePartsParser]

    @extend_schema(
        operation_id="users_avatar_upload",
        summary="Upload your avatar (U3)",
        description=(
            "Multipart: one image under `avatar` or `file` (JPEG, PNG, GIF or WebP, at most 2 MB). It is cropped to "
            "its centre square and stored as a 256x256 WebP, replacing any previous avatar."
        ),
        parameters=[USER_ID],
        request={"multipart/form-data": AvatarUploadRequestSerializer},
        responses={200: envelope(AvatarSerializer, message=True, name="AvatarUploadedEnvelope")},
    )
    @limit_category(UPLOAD)
    def post(self, request: Request, id: str) -> Response:
        user_id = own_user_id(request, id)
        part = one_file_part(request, AVATAR_FIELDS)
        row = avatar_upload(user_id=user_id, upload=part.file, field=part.field)
        data = AvatarSerializer(row, context={"request": request}).data
        return success(data, message="Avatar uploaded successfully")

    @extend_schema(
        operation_id="users_avatar_delete",
        summary="Delete your avatar (U4)",
        description="Succeeds also when there is no avatar.",
        parameters=[USER_ID],
        responses={200: envelope(AvatarDeletedSerializer, message=True, name="AvatarDeletedEnvelope")},
    )
    def delete(self, request: Request, id: str) -> Response:
        user_id = own_user_id(request, id)
        avatar_delete(user_id=user_id)
        data = AvatarDeletedSerializer({"id": user_id, "avatar_url": None}).data
        return success(data, message="Avatar deleted successfully")
