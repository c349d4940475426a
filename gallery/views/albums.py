"""Album routes (SPEC §4.3 G9-G13): list and create (`/api/albums`), detail, update and delete (`/api/albums/{id}`).
GET results go through the response cache (SPEC §6.1: `gallery:albums`, `gallery:album`)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view

from gallery.models import GalleryAlbum
from gallery.serializers.albums import (
    GalleryAlbumDeletedSerializer,
    GalleryAlbumDetailSerializer,
    GalleryAlbumSerializer,
    GalleryAlbumWriteSerializer,
)
from gallery.services.albums import (
    ALBUM_LABEL,
    album_create,
    album_delete,
    album_detail_queryset,
    album_queryset,
    album_update,
    albums_matching,
)
from lego_api.core.query import TextFilter
from lego_api.core.schema import CACHE_HEADERS, envelope, update_operations
from lego_api.core.viewsets import OwnedViewSet, ResponseCache

ALBUM_CACHE = ResponseCache(family="gallery", list="gallery:albums", detail="gallery:album")
SEARCH_MAX_LENGTH = 200


class GalleryAlbumFilter(django_filters.FilterSet):
    """G9's `search`: a filter only (the createdAt order is kept), by the database rules of SPEC §6.2."""

    search = TextFilter(
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Albums whose title or description match (database full-text and trigram rules, SPEC §6.2); "
        "the order stays `createdAt` desc.",
    )

    class Meta:
        model = GalleryAlbum
        fields = ["search"]

    def filter_search(self, queryset: QuerySet[GalleryAlbum], name: str, value: str) -> QuerySet[GalleryAlbum]:
        return albums_matching(queryset, value)


LIST_CREATE_DESCRIPTION = "G9 `GET /api/albums` and G10 `POST /api/albums`."
DETAIL_DESCRIPTION = "G11 `GET`, G12 `PATCH|PUT` (both partial) and G13 `DELETE` `/api/albums/{id}`."


@extend_schema_view(
    list=extend_schema(
        summary="List the caller's albums, newest first (G9)",
        description=LIST_CREATE_DESCRIPTION,
        parameters=CACHE_HEADERS,
        responses={200: GalleryAlbumSerializer(many=True)},
    ),
    create=extend_schema(
        summary="Create an album (G10)",
        description=LIST_CREATE_DESCRIPTION,
        request=GalleryAlbumWriteSerializer,
        responses={201: envelope(GalleryAlbumSerializer, message=True)},
    ),
    retrieve=extend_schema(
        summary="An album with its 100 newest images (G11)",
        description=DETAIL_DESCRIPTION,
        parameters=CACHE_HEADERS,
        responses={200: envelope(GalleryAlbumDetailSerializer)},
    ),
    **update_operations(
        summary="Update an album",
        route="G12",
        description=DETAIL_DESCRIPTION,
        request=GalleryAlbumWriteSerializer,
        response=envelope(GalleryAlbumSerializer, message=True),
    ),
    destroy=extend_schema(
        summary="Delete an album; its images are kept, in no album (G13)",
        description=DETAIL_DESCRIPTION,
        responses={200: envelope(GalleryAlbumDeletedSerializer, message=True, name="GalleryAlbumDeletedEnvelope")},
    ),
)
class GalleryAlbumViewSet(OwnedViewSet):
    """G9 `GET` and G10 `POST /api/albums`; G11 `GET`, G12 `PATCH|PUT` and G13 `DELETE /api/albums/{id}`."""

    queryset = album_queryset().order_by("-created_at", "id")
    serializer_class = GalleryAlbumSerializer
    retrieve_serializer_class = GalleryAlbumDetailSerializer
    deleted_serializer_class = GalleryAlbumDeletedSerializer
    write_serializer_class = GalleryAlbumWriteSerializer
    filterset_class = GalleryAlbumFilter
    label = ALBUM_LABEL
    cache = ALBUM_CACHE

    def get_queryset(self) -> QuerySet[GalleryAlbum]:
        if self.action == "retrieve" and not getattr(self, "swagger_fake_view", False):
            return album_detail_queryset()  # the newest images in one more query, however many there are
        return super().get_queryset()

    def perform_create(self, payload: GalleryAlbumWriteSerializer) -> GalleryAlbum:
        return album_create(user_id=self.request.user.id, data=payload.validated_data)

    def perform_update(self, payload: GalleryAlbumWriteSerializer) -> GalleryAlbum:
        return album_update(album=payload.instance, data=payload.validated_data)

    def perform_destroy(self, instance: GalleryAlbum) -> None:
        album_delete(album=instance)
