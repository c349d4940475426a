"""Gallery image routes (SPEC §4.3 G1-G8): the image viewset (list and upload G1, G2; search alias G3; detail, update
and delete G4-G6; flag G7) and the flag alias G8. GET results go through the response cache (SPEC §6.1)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery.file_kinds import GALLERY_IMAGE
from gallery.filters import GalleryImageFilter
from gallery.models import GalleryImage
from gallery.search import search_images
from gallery.serializers.images import (
    GalleryFlagAliasWriteSerializer,
    GalleryFlagSerializer,
    GalleryFlagWriteSerializer,
    GalleryImageDeletedSerializer,
    GalleryImageSerializer,
    GalleryImageUploadSerializer,
    GalleryImageWriteSerializer,
)
from gallery.services.flags import flag_create, flag_create_by_reference
from gallery.services.images import IMAGE_LABEL, image_delete, image_update, image_upload
from lego_api.core.envelope import success
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.query import query_params
from lego_api.core.ratelimit import UPLOAD, limit_category
from lego_api.core.schema import CACHE_HEADERS, SEARCH_HEADERS, envelope, update_operations
from lego_api.core.search import SearchResult
from lego_api.core.uploads import FilePartsParser, check_part, form_fields, one_file_part
from lego_api.core.viewsets import OwnedViewSet, ResponseCache

# The SPEC §6.1 key table.
IMAGE_CACHE = ResponseCache(family="gallery", list="gallery:images", search="gallery:search", detail="gallery:image")
IMAGE_FILE_FIELDS = ("image", "file")
SEARCH_ALIAS = "q"
MSG_REQUIRED = "This field is required."
MSG_UPLOADED = "Image uploaded successfully"
MSG_FLAGGED = "Image flagged for moderation"

LIST_CREATE_DESCRIPTION = "G2 `GET /api/images` and G1 `POST /api/images`."
DETAIL_DESCRIPTION = "G4 `GET`, G5 `PATCH|PUT` (both partial) and G6 `DELETE` `/api/images/{id}`."
FLAGGED = envelope(GalleryFlagSerializer, message=True)


@extend_schema_view(
    list=extend_schema(
        summary="List the caller's images, in albums or not (G2)",
        description=LIST_CREATE_DESCRIPTION,
        parameters=SEARCH_HEADERS,
        responses={200: GalleryImageSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Upload an image (G1)",
        description=(
            "Multipart: the image under `image` or `file` (JPEG, PNG or WebP, max 10 MB), and optional `title` "
            "(default: the file name without its extension), `description`, `tags` and `albumId`. "
            "`processingStatus` is `ready` when processing ran inline, `pending` when queued (poll G4)."
        ),
        request={"multipart/form-data": GalleryImageUploadSerializer},
        responses={201: envelope(GalleryImageSerializer, message=True, name="GalleryImageUploadedEnvelope")},
    ),
    retrieve=extend_schema(
        summary="An image (G4)",
        description=DETAIL_DESCRIPTION,
        parameters=CACHE_HEADERS,
        responses={200: envelope(GalleryImageSerializer)},
    ),
    **update_operations(
        summary="Update an image",
        route="G5",
        description=DETAIL_DESCRIPTION,
        request=GalleryImageWriteSerializer,
        response=envelope(GalleryImageSerializer, message=True),
    ),
    destroy=extend_schema(
        summary="Delete an image with its files (G6)",
        description=DETAIL_DESCRIPTION,
        responses={200: envelope(GalleryImageDeletedSerializer, message=True, name="GalleryImageDeletedEnvelope")},
    ),
)
class GalleryImageViewSet(OwnedViewSet):
    """G2 `GET` and G1 `POST /api/images`; G3 `GET /api/images/search`; G4 `GET`, G5 `PATCH|PUT` and G6 `DELETE
    /api/images/{id}`; G7 `POST /api/images/{id}/flag`."""

    queryset = GalleryImage.objects.defer("search_vector").order_by("-created_at", "id")
    serializer_class = GalleryImageSerializer
    deleted_serializer_class = GalleryImageDeletedSerializer
    write_serializer_class = GalleryImageWriteSerializer
    filterset_class = GalleryImageFilter
    label = IMAGE_LABEL
    cache = IMAGE_CACHE
    lower_case_filters = ("tag",)

    @property
    def declared_errors(self) -> dict[str, tuple[int, ...]]:
        """G7's 409 (documented by lego_api.core.openapi); no other image route has one."""
        return {"POST": (409,)} if self.action == "flag" else {}

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # G1 alone is multipart: its parsers are chosen before DRF sets `action` (the error handler reads
        # `parser_classes` to name the Content-Type a route wants).
        if self.action_map.get((request.method or "").lower()) == "create":
            self.parser_classes = [FilePartsParser]
        return super().initialize_request(request, *args, **kwargs)

    # --- Reads --------------------------------------------------------------------------------------------------

    def search_rows(self, params: dict[str, Any], *, offset: int, limit: int) -> SearchResult[GalleryImage]:
        return search_images(
            user_id=self.request.user.id,
            q=params["search"],
            album_id=params["albumId"],
            tag=params["tag"],
            flagged=params["flagged"],
            offset=offset,
            limit=limit,
        )

    @extend_schema(
        operation_id="images_search",
        summary="Search the caller's images (G3, alias of G2 with `search`)",
        filters=True,  # G2's filters, `search` among them
        parameters=[
            OpenApiParameter(
                "search",
                {"type": "string", "minLength": 1, "maxLength": 200},
                required=True,
                description="Search text, ranked by relevance (`q` is accepted instead).",
            ),
            OpenApiParameter("q", OpenApiTypes.STR, description="Alias of `search` (used when `search` is absent)."),
            OpenApiParameter("page", OpenApiTypes.INT, description="Page, >= 1 (default 1)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="Page size, 1-100 (default 20)."),
            *SEARCH_HEADERS,
        ],
        responses={200: envelope(GalleryImageSerializer, paginated=True)},
    )
    @action(detail=False, methods=["get"], url_path="search")
    def search(self, request: Request) -> Response:
        """G3: `search` (or `q`) is required; G2's filters and paging apply; by relevance, then `lastUpdatedAt`."""

        def validate() -> dict[str, Any]:
            data = query_params(request).copy()
            if not (data.get("search") or "").strip() and SEARCH_ALIAS in data:
                data.setlist("search", data.getlist(SEARCH_ALIAS))
            filterset = GalleryImageFilter(data, queryset=self.get_queryset(), request=request)
            if not filterset.is_valid():
                raise translate_validation(filterset.errors)
            params = self.list_params(filterset.form.cleaned_data)
            if not params["search"]:
                raise ValidationFailed.on_field("search", MSG_REQUIRED)
            page, limit = self.paginator.get_page_params(request)
            return {**params, "page": page, "limit": limit}

        params = self.valid_query(request, validate)
        return self.cached(
            self.cache.search, ttl=self.cache.search_ttl, params=params, compute=lambda: self.search_page(params)
        )

    # --- Writes -------------------------------------------------------------------------------------------------

    @limit_category(UPLOAD)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """G1: one image part and the text fields, all read before anything is validated."""
        part = one_file_part(request, IMAGE_FILE_FIELDS)
        payload = GalleryImageUploadSerializer(data=form_fields(request, lists=("tags",)))
        payload.is_valid(raise_exception=True)
        checked = check_part(GALLERY_IMAGE, part.file, field=part.field)
        image = image_upload(user_id=request.user.id, upload=part.file, checked=checked, data=payload.validated_data)
        return success(self.get_serializer(image).data, message=MSG_UPLOADED, status=201)

    def perform_update(self, payload: GalleryImageWriteSerializer) -> GalleryImage:
        return image_update(image=payload.instance, data=payload.validated_data)

    def perform_destroy(self, instance: GalleryImage) -> None:
        image_delete(image=instance)

    @extend_schema(
        summary="Flag an image for moderation (G7)",
        description="Any user may flag any existing image, once. The image's `flagged` is not changed.",
        request=GalleryFlagWriteSerializer,
        responses={201: FLAGGED},
    )
    @action(detail=True, methods=["post"], url_path="flag")
    def flag(self, request: Request, id: str) -> Response:
        payload = GalleryFlagWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        flag = flag_create(
            user_id=request.user.id, image_id=self.path_id(), reason=payload.validated_data.get("reason")
        )
        return success(GalleryFlagSerializer(flag).data, message=MSG_FLAGGED, status=201)


class FlagAliasView(APIView):
    """G8 `POST /api/flag`: G7 with the image named in the body (`imageId`)."""

    declared_errors = {"POST": (409,)}  # already flagged

    @extend_schema(
        operation_id="flag_create",
        summary="Flag an image for moderation (G8, compatibility alias of G7)",
        request=GalleryFlagAliasWriteSerializer,
        responses={201: FLAGGED},
    )
    def post(self, request: Request) -> Response:
        payload = GalleryFlagAliasWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        flag = flag_create_by_reference(
            user_id=request.user.id,
            image_id=payload.validated_data["image_id"],
            reason=payload.validated_data.get("reason"),
        )
        return success(GalleryFlagSerializer(flag).data, message=MSG_FLAGGED, status=201)
