"""Wishlist routes (SPEC §4.4): one owned viewset for W1, W2 and W5-W7, with `@action`s for search (W3), reorder
(W4) and the image upload (W8). GET results go through the response cache (SPEC §6.1)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from lego_api.core.envelope import success
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.query import query_text
from lego_api.core.ratelimit import UPLOAD, limit_category
from lego_api.core.schema import CACHE_HEADERS, SEARCH_HEADERS, envelope
from lego_api.core.uploads import FilePartsParser, one_file_part
from lego_api.core.viewsets import OwnedViewSet, ResponseCache
from wishlist.filters import CATEGORY_MAX_LENGTH, SEARCH_MAX_LENGTH, WishlistFilter
from wishlist.models import WishlistItem
from wishlist.search import SearchResult, search_wishlist
from wishlist.serializers import (
    WishlistImageUploadSerializer,
    WishlistItemDeletedSerializer,
    WishlistItemSerializer,
    WishlistItemWriteSerializer,
    WishlistReorderedSerializer,
    WishlistReorderSerializer,
)
from wishlist.services import (
    WISHLIST_LABEL,
    wishlist_item_create,
    wishlist_item_delete,
    wishlist_item_set_image,
    wishlist_item_update,
    wishlist_reorder,
)

# The SPEC §6.1 key table: `wishlist:list`, `wishlist:search` (W3, and W1 with `search`), `wishlist:item`, 300 s.
WISHLIST_CACHE = ResponseCache(
    family="wishlist", list="wishlist:list", search="wishlist:search", detail="wishlist:item", detail_ttl=300
)
IMAGE_FIELDS = ("image", "file")
MSG_SEARCH_REQUIRED = "This field is required."

ITEM = envelope(WishlistItemSerializer, message=True, name="WishlistItemMessageEnvelope")
LIST_CREATE_DESCRIPTION = "W1 `GET /api/wishlist` and W2 `POST /api/wishlist`."
DETAIL_DESCRIPTION = "W5 `GET`, W6 `PATCH|PUT` (both partial) and W7 `DELETE` `/api/wishlist/{id}`."
SEARCH_PARAMETERS = [
    OpenApiParameter("search", OpenApiTypes.STR, description="Search text, 1-200 characters (required, or `q`)."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Alias of `search`."),
    OpenApiParameter("category", OpenApiTypes.STR, description="Exact category."),
    OpenApiParameter("page", OpenApiTypes.INT, description="Page, >= 1 (default 1)."),
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size, 1-100 (default 20)."),
    *SEARCH_HEADERS,
]


@extend_schema_view(
    list=extend_schema(
        summary="List the caller's wishlist (W1)",
        description=LIST_CREATE_DESCRIPTION,
        parameters=SEARCH_HEADERS,
        responses={200: WishlistItemSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Add a wishlist item (W2)",
        description=LIST_CREATE_DESCRIPTION,
        request=WishlistItemWriteSerializer,
        responses={201: ITEM},
    ),
    retrieve=extend_schema(
        summary="A wishlist item (W5)",
        description=DETAIL_DESCRIPTION,
        parameters=CACHE_HEADERS,
        responses={200: envelope(WishlistItemSerializer)},
    ),
    partial_update=extend_schema(
        summary="Update a wishlist item (W6; PATCH and PUT are both partial)",
        description=DETAIL_DESCRIPTION,
        request=WishlistItemWriteSerializer(partial=True),
        responses={200: ITEM},
    ),
    update=extend_schema(
        summary="Update a wishlist item (W6; PUT is an alias of PATCH)",
        description=DETAIL_DESCRIPTION,
        request=WishlistItemWriteSerializer(partial=True),
        responses={200: ITEM},
    ),
    destroy=extend_schema(
        summary="Delete a wishlist item and its uploaded image (W7)",
        description=DETAIL_DESCRIPTION,
        responses={200: envelope(WishlistItemDeletedSerializer, message=True, name="WishlistItemDeletedEnvelope")},
    ),
)
class WishlistViewSet(OwnedViewSet):
    """W1 `GET` and W2 `POST /api/wishlist`; W3 `GET /api/wishlist/search`; W4 `POST|PUT /api/wishlist/reorder`;
    W5 `GET`, W6 `PATCH|PUT` and W7 `DELETE /api/wishlist/{id}`; W8 `POST /api/wishlist/{id}/image`."""

    queryset = WishlistItem.objects.defer("search_vector").order_by("sort_order", "created_at", "id")
    serializer_class = WishlistItemSerializer
    deleted_serializer_class = WishlistItemDeletedSerializer
    write_serializer_class = WishlistItemWriteSerializer
    filterset_class = WishlistFilter
    label = WISHLIST_LABEL
    cache = WISHLIST_CACHE

    def search_rows(self, params: dict[str, Any], *, offset: int, limit: int) -> SearchResult[WishlistItem]:
        return search_wishlist(
            user_id=self.request.user.id, q=params["search"], category=params["category"], offset=offset, limit=limit
        )

    def perform_create(self, payload: WishlistItemWriteSerializer) -> WishlistItem:
        return wishlist_item_create(user_id=self.request.user.id, data=payload.validated_data)

    def perform_update(self, payload: WishlistItemWriteSerializer) -> WishlistItem:
        return wishlist_item_update(item=payload.instance, data=payload.validated_data)

    def perform_destroy(self, instance: WishlistItem) -> None:
        wishlist_item_delete(item=instance)

    @extend_schema(
        summary="Search the caller's wishlist (W3)",
        parameters=SEARCH_PARAMETERS,
        responses={200: envelope(WishlistItemSerializer, paginated=True)},
    )
    @action(detail=False, methods=["get"], url_path="search", filterset_class=None)
    def search(self, request: Request) -> Response:
        """W3: W1's search under the same cache entries (`search`, alias `q`, is required)."""
        text = query_text(request, "search", max_length=SEARCH_MAX_LENGTH) or query_text(
            request, "q", max_length=SEARCH_MAX_LENGTH
        )
        if text is None:
            raise ValidationFailed.on_field("search", MSG_SEARCH_REQUIRED)
        category = query_text(request, "category", max_length=CATEGORY_MAX_LENGTH)
        page, limit = self.paginator.get_page_params(request)
        params = {"page": page, "limit": limit, "category": category, "search": text}
        return self.cached(
            self.cache.search, ttl=self.cache.search_ttl, params=params, compute=lambda: self.search_page(params)
        )

    @extend_schema(
        summary="Set the order of wishlist items (W4)",
        request=WishlistReorderSerializer,
        responses={200: envelope(WishlistReorderedSerializer, message=True, name="WishlistReorderedEnvelope")},
    )
    @action(detail=False, methods=["post", "put"], url_path="reorder")
    def reorder(self, request: Request) -> Response:
        payload = WishlistReorderSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = wishlist_reorder(user_id=request.user.id, orders=payload.validated_data["items"])
        data = WishlistReorderedSerializer({"updated": updated}).data
        return success(data, message="Wishlist items reordered successfully")

    @extend_schema(
        summary="Upload a wishlist item's image (W8)",
        request={"multipart/form-data": WishlistImageUploadSerializer},
        responses={200: ITEM},
    )
    @action(detail=True, methods=["post"], url_path="image", parser_classes=[FilePartsParser])
    @limit_category(UPLOAD)
    def image(self, request: Request, id: str) -> Response:
        item = self.get_object()
        part = one_file_part(request, IMAGE_FIELDS)
        item = wishlist_item_set_image(item=item, upload=part.file, field=part.field)
        return success(self.get_serializer(item).data, message="Wishlist image uploaded successfully")
