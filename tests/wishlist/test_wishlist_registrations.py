"""What the wishlist app registers with core in its AppConfig.ready() (SPEC §3.12, §5.3, §6.1, §6.2): the profile's
`wishlistItems` counter (one COUNT), the `wishlist/` key prefix of the orphan sweep (an object no item references is
deleted once old, an uploaded image is kept), the cache family and the search index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lego_api.core import orphans, storage
from lego_api.core.cache import registered_families
from lego_api.core.counts import user_counts
from lego_api.core.search import registered
from tests.helpers import stored_keys
from tests.wishlist.factories import WishlistItemFactory
from tests.wishlist.uploads import upload_image
from wishlist.keys import wishlist_image_key
from wishlist.search import WISHLIST_INDEX
from wishlist.services import wishlist_count

pytestmark = pytest.mark.django_db(transaction=True)


def test_wishlist_items_is_counted_for_the_profile_in_one_query(
    api, owner, other_user, create_item, django_assert_num_queries
):
    created = [create_item(title=f"Wanted {index}")["id"] for index in range(3)]
    WishlistItemFactory(user_id=other_user)
    assert user_counts(owner)["wishlistItems"] == 3
    assert api.delete(f"/api/wishlist/{created[0]}").status_code == 200
    with django_assert_num_queries(1):
        assert wishlist_count(user_id=owner) == 2
    assert user_counts(f"nobody-{owner}")["wishlistItems"] == 0


def test_the_orphan_sweep_deletes_only_unreferenced_wishlist_objects(api, owner):
    item = WishlistItemFactory(user_id=owner)
    assert upload_image(api, item.id).status_code == 200
    kept = type(item).objects.get(pk=item.pk).image_url
    orphan = wishlist_image_key(owner, item.id)  # as an upload cut off before its commit leaves it
    storage.save_bytes(orphan, b"RIFF....WEBP", content_type="image/webp")
    prefix = f"wishlist/{storage.user_key_segment(owner)}/"
    assert "wishlist/" in orphans.registered_prefixes()

    too_soon = orphans.unreferenced_objects_sweep(within=prefix)
    later = orphans.unreferenced_objects_sweep(
        now=timezone.now() + orphans.UNREFERENCED_GRACE + timedelta(minutes=1), within=prefix
    )

    assert (too_soon.deleted, later.deleted) == (0, 1)
    assert stored_keys(prefix) == [kept]


def test_the_cache_family_and_the_search_index_are_registered():
    assert "wishlist" in registered_families()
    assert registered()["wishlist"] is WISHLIST_INDEX
