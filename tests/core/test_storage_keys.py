"""Storage keys (SPEC §5.3 table and "Key parts"): core gives the `{uid}` rule, each app builds its own keys."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest

from gallery.keys import gallery_image_key, gallery_staging_key, gallery_thumbnail_key
from lego_api.core.storage import user_key_segment
from mocs.storage_keys import moc_file_key
from profiles.keys import avatar_key
from wishlist.keys import wishlist_image_key

ID = uuid.UUID("6f1c2a4e-8d7b-4c1a-9e2f-0a1b2c3d4e5f")
OTHER_ID = uuid.UUID("0b7e5c1d-2f3a-4b6c-8d9e-1f2a3b4c5d6e")


@pytest.mark.parametrize("user_id", ["us-east-1_abc", "6f1c2a4e-8d7b-4c1a-9e2f-0a1b2c3d4e5f", "a" * 128, "_-"])
def test_a_key_safe_user_id_is_its_own_segment(user_id):
    assert user_key_segment(user_id) == user_id


@pytest.mark.parametrize("user_id", ["user@example.com", "a/../b", "a" * 129, "", "é"])
def test_any_other_user_id_becomes_its_sha256(user_id):
    assert user_key_segment(user_id) == hashlib.sha256(user_id.encode()).hexdigest()


def test_moc_file_key():
    assert moc_file_key("sub-1", ID, OTHER_ID, "pdf") == f"mocs/sub-1/{ID}/{OTHER_ID}.pdf"


def test_gallery_keys():
    assert gallery_staging_key("sub-1", ID, "jpg") == f"tmp/sub-1/{ID}.jpg"
    assert gallery_image_key("sub-1", ID) == f"images/sub-1/{ID}.webp"
    assert gallery_thumbnail_key("sub-1", ID) == f"images/sub-1/thumbnails/{ID}.webp"


def test_wishlist_image_key_is_new_on_every_upload():
    assert wishlist_image_key("sub-1", ID, "0a1b2c3d") == f"wishlist/sub-1/{ID}-0a1b2c3d.webp"
    first, second = wishlist_image_key("sub-1", ID), wishlist_image_key("sub-1", ID)
    assert re.fullmatch(rf"wishlist/sub-1/{ID}-[0-9a-f]{{8}}\.webp", first)
    assert first != second


def test_avatar_key():
    assert avatar_key("sub-1") == "avatars/sub-1/avatar.webp"


def test_keys_use_the_segment_rule():
    unsafe = "user@example.com"
    segment = hashlib.sha256(unsafe.encode()).hexdigest()
    keys = [
        moc_file_key(unsafe, ID, OTHER_ID, "csv"),
        gallery_staging_key(unsafe, ID, "png"),
        gallery_image_key(unsafe, ID),
        gallery_thumbnail_key(unsafe, ID),
        wishlist_image_key(unsafe, ID),
        avatar_key(unsafe),
    ]
    assert all(key.split("/")[1] == segment for key in keys)
