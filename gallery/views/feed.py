"""The gallery feed route (SPEC §4.3 G14 `GET /api/gallery`): albums and standalone images in one cursor list,
cached as `gallery:feed` (SPEC §6.1)."""

from __future__ import annotations

from dataclasses import asdict

from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery.filters import GalleryImageFilter
from gallery.models import GalleryImage
from gallery.serializers.feed import GalleryFeedPageSerializer
from gallery.services.feed import FEED_TYPES, FeedFilters, feed_page
from lego_api.core.cache import CachedResult, cached_success
from lego_api.core.query import TextChoiceFilter, query_int, query_params
from lego_api.core.schema import CACHE_HEADERS, envelope

FEED_CACHE = "gallery:feed"
FEED_TTL = 300
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


class GalleryFeedFilter(GalleryImageFilter):
    """G14's filters: G2's (`albumId`, `tag`, `flagged`, `search`, same rules) plus `type`. Only validated here;
    `gallery.services.feed` applies them (albums and images differently)."""

    type = TextChoiceFilter(choices=[(name, name) for name in FEED_TYPES])

    class Meta(GalleryImageFilter.Meta):
        fields = [*GalleryImageFilter.Meta.fields, "type"]


def feed_filters(request: Request) -> FeedFilters:
    """The query's filters, or 400 VALIDATION_ERROR on each parameter that breaks its rule."""
    filterset = GalleryFeedFilter(query_params(request), queryset=GalleryImage.objects.none())
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    cleaned = filterset.form.cleaned_data
    tag = cleaned["tag"].lower() if cleaned["tag"] else None  # tags are stored lower-cased (SPEC §1.4)
    return FeedFilters(
        type=cleaned["type"] or "all",
        album_id=cleaned["albumId"],
        tag=tag,
        flagged=cleaned["flagged"],
        search=cleaned["search"] or None,
    )


@extend_schema(
    summary="Albums and standalone images in one feed, newest first, by an integer cursor (G14)",
    description="G14 `GET /api/gallery`. Albums are included when `type` is not `image` and no `albumId`, `tag` or "
    "`flagged` is given; images are the ones in no album, or that album's with `albumId`. `search` uses the "
    "database rules (SPEC §6.2) on album titles and descriptions and on image titles, descriptions and tags.",
    parameters=[
        OpenApiParameter("type", OpenApiTypes.STR, enum=list(FEED_TYPES), description="Default `all`."),
        OpenApiParameter("albumId", OpenApiTypes.UUID, description="Only this album's images (and no albums)."),
        OpenApiParameter("tag", OpenApiTypes.STR, description="Exact tag of images (lower-cased); no albums."),
        OpenApiParameter("flagged", OpenApiTypes.BOOL, description="Images with this `flagged` value; no albums."),
        OpenApiParameter("search", OpenApiTypes.STR, description="Search text, 1-200 characters."),
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            description="Items per page.",
        ),
        OpenApiParameter(
            "cursor", {"type": "integer", "minimum": 0, "default": 0}, description="Items of the feed to skip."
        ),
        *CACHE_HEADERS,
    ],
    responses={200: envelope(GalleryFeedPageSerializer, name="GalleryFeedEnvelope")},
)
class GalleryFeedView(APIView):
    """G14 `GET /api/gallery?type=&albumId=&tag=&flagged=&search=&limit=&cursor=`."""

    def get(self, request: Request) -> Response:
        filters = feed_filters(request)
        limit = query_int(request, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        cursor = query_int(request, "cursor", default=0, minimum=0)

        def compute() -> CachedResult:
            page = feed_page(user_id=request.user.id, filters=filters, cursor=cursor, limit=limit)
            return CachedResult(data=GalleryFeedPageSerializer(page, context={"request": request}).data)

        params = {**asdict(filters), "limit": limit, "cursor": cursor}
        return cached_success(
            name=FEED_CACHE,
            user_id=request.user.id,
            families=("gallery",),
            ttl=FEED_TTL,
            params={key: str(value) if value is not None else None for key, value in params.items()},
            compute=compute,
        )
