"""Moderation (SPEC §7.2 "Flagged images"): what support staff do to images their users flagged. Each action changes
the images under a row lock, then after commit bumps every owner's gallery family and re-indexes the images (their
documents carry `flagged`); a delete is the full image delete of the API (G6), objects included."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from gallery.models import GalleryFlag, GalleryImage
from gallery.services.images import image_delete, images_reindex
from lego_api.core import cache as response_cache


def _lock(image_ids: Iterable[UUID | str]) -> list[tuple[UUID, str]]:
    """`(id, owner)` of the images that still exist, locked until commit (a concurrent flag or delete waits)."""
    rows = GalleryImage.objects.select_for_update(no_key=True).filter(pk__in=list(image_ids)).order_by("pk")
    return list(rows.values_list("pk", "user_id"))


def _changed(images: list[tuple[UUID, str]]) -> None:
    for user_id in sorted({user_id for _, user_id in images}):
        response_cache.bump("gallery", user_id)
    images_reindex(image_ids=[pk for pk, _ in images])


@transaction.atomic
def images_mark_flagged(*, image_ids: Iterable[UUID | str]) -> int:
    """ "Mark as flagged": `flagged` is true (the flags stay); returns how many images there were."""
    images = _lock(image_ids)
    GalleryImage.objects.filter(pk__in=[pk for pk, _ in images]).update(flagged=True, last_updated_at=timezone.now())
    _changed(images)
    return len(images)


@transaction.atomic
def images_dismiss_flags(*, image_ids: Iterable[UUID | str]) -> int:
    """ "Dismiss flags": the images' flags are deleted and `flagged` is false again; returns how many images."""
    images = _lock(image_ids)
    ids = [pk for pk, _ in images]
    GalleryFlag.objects.filter(image_id__in=ids).delete()
    GalleryImage.objects.filter(pk__in=ids).update(flagged=False, last_updated_at=timezone.now())
    _changed(images)
    return len(images)


def images_delete(*, image_ids: Iterable[UUID | str]) -> int:
    """ "Delete images": each image as G6 deletes it (flags and MOC links cascade; objects deleted after commit)."""
    images = list(GalleryImage.objects.filter(pk__in=list(image_ids)).order_by("pk"))
    for image in images:
        image_delete(image=image)
    return len(images)
