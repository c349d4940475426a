"""Links between a MOC and the owner's gallery images (SPEC §3.6, §4.2 M14-M16) and albums (admin only).

The link tables are mocs' own; gallery knows nothing of them (the import arrow runs mocs -> gallery). A link is
written under the MOC lock (`moc_lock`), so two requests linking the same image decide one after the other, and the
linked image is locked too, so that it cannot be deleted between the check and the commit. Linking and unlinking an
image change what the MOC detail shows: `updatedAt`, bump mocs and re-index (`moc_touch`). Album links show nowhere
in the API, so they have no effect beyond their row.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet

from gallery.models import GalleryAlbum, GalleryImage
from lego_api.core.exceptions import Conflict, NotFound, ValidationFailed
from mocs.models import Moc, MocGalleryAlbum, MocGalleryImage
from mocs.services.mocs import gallery_image_links_queryset, moc_lock, moc_touch

IMAGE_ALREADY_LINKED = "Image is already linked to this MOC"
ALBUM_ALREADY_LINKED = "Album is already linked to this MOC"
MSG_GALLERY_IMAGE_NOT_FOUND = "Gallery image not found"
MSG_GALLERY_ALBUM_NOT_FOUND = "Gallery album not found"
MSG_IMAGE_NOT_LINKED = "Image is not linked to this MOC"
GALLERY_IMAGE_FIELD = "galleryImageId"
GALLERY_ALBUM_FIELD = "galleryAlbumId"


@dataclass(frozen=True)
class Unlinked:
    """M16 `data`: the link that went and the image it named."""

    id: UUID
    gallery_image_id: UUID


def _lock_owned[RowT: GalleryImage | GalleryAlbum](
    model: type[RowT], pk: UUID | str, *, moc: Moc, field: str, message: str
) -> RowT:
    """The MOC owner's image or album with this id, locked until commit (`FOR NO KEY UPDATE`: its delete waits), or
    400 on the body field (a missing one and another user's alike, SPEC §1.9)."""
    row = model.objects.select_for_update(no_key=True).filter(pk=pk, user_id=moc.user_id).first()
    if row is None:
        raise ValidationFailed.on_field(field, message)
    return row


def moc_gallery_image_links(*, moc: Moc) -> QuerySet[MocGalleryImage]:
    """M15: the MOC's image links with their images, by link time."""
    return gallery_image_links_queryset().filter(moc_id=moc.pk)


@transaction.atomic
def moc_gallery_image_link(*, moc: Moc, gallery_image_id: UUID | str) -> MocGalleryImage:
    """M14: link one of the MOC owner's gallery images to the MOC. 400 on `galleryImageId` when the owner has no
    such image; 409 when it is linked already."""
    moc = moc_lock(moc_id=moc.pk)
    image = _lock_owned(
        GalleryImage, gallery_image_id, moc=moc, field=GALLERY_IMAGE_FIELD, message=MSG_GALLERY_IMAGE_NOT_FOUND
    )
    if MocGalleryImage.objects.filter(moc_id=moc.pk, gallery_image_id=image.pk).exists():
        raise Conflict(IMAGE_ALREADY_LINKED)
    link = MocGalleryImage.objects.create(moc=moc, gallery_image=image)
    moc_touch(moc=moc)
    return link


@transaction.atomic
def moc_gallery_image_unlink(*, moc: Moc, gallery_image_id: UUID | str) -> Unlinked:
    """M16: remove the link of this image to the MOC (the image stays); 404 when there is none."""
    moc = moc_lock(moc_id=moc.pk)
    link = MocGalleryImage.objects.filter(moc_id=moc.pk, gallery_image_id=gallery_image_id).first()
    if link is None:
        raise NotFound(MSG_IMAGE_NOT_LINKED)
    unlinked = Unlinked(id=link.pk, gallery_image_id=link.gallery_image_id)
    link.delete()
    moc_touch(moc=moc)
    return unlinked


@transaction.atomic
def moc_gallery_album_link(*, moc: Moc, gallery_album_id: UUID | str) -> MocGalleryAlbum:
    """Link one of the MOC owner's albums to the MOC (the admin's add form); 409 when it is linked already."""
    moc = moc_lock(moc_id=moc.pk)
    album = _lock_owned(
        GalleryAlbum, gallery_album_id, moc=moc, field=GALLERY_ALBUM_FIELD, message=MSG_GALLERY_ALBUM_NOT_FOUND
    )
    if MocGalleryAlbum.objects.filter(moc_id=moc.pk, gallery_album_id=album.pk).exists():
        raise Conflict(ALBUM_ALREADY_LINKED)
    return MocGalleryAlbum.objects.create(moc=moc, gallery_album=album)


def moc_gallery_album_unlink(*, moc: Moc, gallery_album_id: UUID | str) -> None:
    """Remove the link of this album to the MOC (the album stays); nothing to do when there is none."""
    MocGalleryAlbum.objects.filter(moc_id=moc.pk, gallery_album_id=gallery_album_id).delete()
