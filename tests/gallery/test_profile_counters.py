"""The gallery's counters in the profile registry (SPEC §3.12 Profile `stats.images` and `stats.albums`): registered by
GalleryConfig.ready(), one COUNT query each, following creates and deletes of images and albums (through the
services the API and the admin use)."""

from __future__ import annotations

import pytest

from gallery.services.albums import album_create, album_delete
from gallery.services.counts import album_count, image_count
from gallery.services.images import image_delete
from gallery.services.moderation import images_delete
from lego_api.core import counts
from tests.factories import GalleryAlbumFactory, GalleryImageFactory

pytestmark = pytest.mark.django_db


def stats(user_id: str) -> dict[str, int]:
    found = counts.user_counts(user_id)
    return {"images": found["images"], "albums": found["albums"]}


def test_the_gallery_registers_images_and_albums(owner):
    GalleryImageFactory(user_id=owner)
    assert counts._counters["images"] is image_count
    assert counts._counters["albums"] is album_count
    assert stats(owner) == {"images": 1, "albums": 0}


def test_counts_follow_creates_and_deletes(owner, other_user):
    GalleryImageFactory(user_id=other_user)
    GalleryAlbumFactory(user_id=other_user)
    assert stats(owner) == {"images": 0, "albums": 0}

    album = album_create(user_id=owner, data={"title": "Harbour"})
    images = [GalleryImageFactory(user_id=owner, album=album) for _ in range(3)]
    pending = GalleryImageFactory(user_id=owner, processing_status="pending")
    assert stats(owner) == {"images": 4, "albums": 1}

    image_delete(image=images[0])
    images_delete(image_ids=[images[1].pk, pending.pk])
    assert stats(owner) == {"images": 1, "albums": 1}

    album_delete(album=album)  # its images stay
    assert stats(owner) == {"images": 1, "albums": 0}
    assert stats(other_user) == {"images": 1, "albums": 1}


def test_each_gallery_counter_is_one_count_query(owner, django_assert_num_queries):
    GalleryImageFactory.create_batch(2, user_id=owner)
    GalleryAlbumFactory(user_id=owner)
    for count_for_user, expected in ((image_count, 2), (album_count, 1)):
        with django_assert_num_queries(1) as captured:
            assert count_for_user(user_id=owner) == expected
        assert "COUNT(*)" in captured.captured_queries[0]["sql"]
