"""MOC-gallery image links (SPEC §4.2 M14-M16): link one of the caller's gallery images to their MOC, list the
linked images, unlink one. The MOC is checked first (404/403); the services own the lock, the checks and the effects
(`updatedAt`, bump mocs). Not cached (SPEC §6.1 lists no key for M15)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lego_api.core.envelope import success
from lego_api.core.schema import envelope
from mocs.serializers.links import (
    GalleryImageLinkSerializer,
    GalleryImageUnlinkedSerializer,
    LinkedGalleryImageSerializer,
    MocGalleryImageLinkSerializer,
)
from mocs.services.links import (
    moc_gallery_image_link,
    moc_gallery_image_links,
    moc_gallery_image_unlink,
)
from mocs.services.mocs import moc_get_owned


class MocGalleryImagesView(APIView):
    """M14 `POST` and M15 `GET /api/mocs/{id}/gallery-images`."""

    declared_errors = {"POST": (409,)}  # the image is linked already (documented by lego_api.core.openapi)

    @extend_schema(
        operation_id="mocs_gallery_images_list",
        summary="The gallery images linked to a MOC, by link time (M15)",
        responses={
            200: envelope(LinkedGalleryImageSerializer, many=True, total=True, name="LinkedGalleryImageListEnvelope")
        },
    )
    def get(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        links = list(moc_gallery_image_links(moc=moc))
        data = LinkedGalleryImageSerializer(links, many=True, context={"request": request}).data
        return success(data, total=len(links))

    @extend_schema(
        operation_id="mocs_gallery_images_link",
        summary="Link one of the caller's gallery images to a MOC (M14)",
        request=GalleryImageLinkSerializer,
        responses={201: envelope(MocGalleryImageLinkSerializer, message=True, name="MocGalleryImageLinkedEnvelope")},
    )
    def post(self, request: Request, id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        payload = GalleryImageLinkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        link = moc_gallery_image_link(moc=moc, gallery_image_id=payload.validated_data["gallery_image_id"])
        data = MocGalleryImageLinkSerializer(link).data
        return success(data, message="Gallery image linked successfully", status=201)


class MocGalleryImageUnlinkView(APIView):
    """M16 `DELETE /api/mocs/{id}/gallery-images/{galleryImageId}`: the image itself is kept."""

    @extend_schema(
        operation_id="mocs_gallery_images_unlink",
        summary="Unlink a gallery image from a MOC (M16)",
        responses={200: envelope(GalleryImageUnlinkedSerializer, message=True, name="GalleryImageUnlinkedEnvelope")},
    )
    def delete(self, request: Request, id: str, gallery_image_id: str) -> Response:
        moc = moc_get_owned(user_id=request.user.id, moc_id=id)
        unlinked = moc_gallery_image_unlink(moc=moc, gallery_image_id=gallery_image_id)
        data = GalleryImageUnlinkedSerializer(unlinked).data
        return success(data, message="Gallery image unlinked successfully")
