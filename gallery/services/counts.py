"""The gallery's counts in the profile's `stats` (SPEC §3.12 `images`, `albums`), registered with
`lego_api.core.counts` in GalleryConfig.ready(): one COUNT query each."""

from __future__ import annotations

from gallery.models import GalleryAlbum, GalleryImage


def image_count(*, user_id: str) -> int:
    """The user's images, whatever their processing status."""
    return GalleryImage.objects.filter(user_id=user_id).count()


def album_count(*, user_id: str) -> int:
    return GalleryAlbum.objects.filter(user_id=user_id).count()
