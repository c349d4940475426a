"""Flags (SPEC §4.3 G7, G8): any user reports any existing image for moderation, once per image. A flag only records
the report: the image's `flagged` is the moderators' (§7.2), and no cache depends on flags."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from gallery.apps import ALREADY_FLAGGED
from gallery.models import GalleryFlag, GalleryImage
from gallery.services.images import IMAGE_LABEL
from lego_api.core.exceptions import Conflict, NotFound, ValidationFailed
from lego_api.core.ownership import get_or_404, not_found_message


@transaction.atomic
def flag_create(*, user_id: str, image_id: UUID | str, reason: str | None) -> GalleryFlag:
    """The caller's flag on the image; 404 `Image not found`, 409 `You have already flagged this image`.

    The image row is locked (`FOR NO KEY UPDATE`: a delete waits, edits of other columns do not) so that it cannot go
    between the check and the insert; two parallel flags by one user meet at that lock, and the unique constraint
    answers 409 for any race the check still loses."""
    image = get_or_404(GalleryImage.objects.select_for_update(no_key=True).only("id"), image_id, label=IMAGE_LABEL)
    if GalleryFlag.objects.filter(image_id=image.pk, user_id=user_id).exists():
        raise Conflict(ALREADY_FLAGGED)
    return GalleryFlag.objects.create(image_id=image.pk, user_id=user_id, reason=reason)


def flag_create_by_reference(
    *, user_id: str, image_id: UUID, reason: str | None, field: str = "imageId"
) -> GalleryFlag:
    """G8: as G7, but the image is a body reference, so a missing one is 400 `Image not found` on `imageId`."""
    try:
        return flag_create(user_id=user_id, image_id=image_id, reason=reason)
    except NotFound:
        raise ValidationFailed.on_field(field, not_found_message(IMAGE_LABEL)) from None
