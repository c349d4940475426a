"""Wishlist services (SPEC §4.4 W2, W4, W6-W8): create, update, delete, reorder and the image upload, with the side
effects every change has (updatedAt, search vector, cache bump, search indexing, storage deletes after commit).

Concurrency:
- a create without `sortOrder` takes a per-user advisory lock before reading the caller's maximum, so parallel
  creates get distinct values;
- a reorder locks the rows it lists `FOR UPDATE` in id order, so two reorders that share rows queue up instead of
  deadlocking, and the later one is applied whole after the earlier;
- update, delete and the image upload lock their one row, so a replaced image is known exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

from django.contrib.postgres.search import SearchVector
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from lego_api.core import cache as response_cache
from lego_api.core.exceptions import ValidationFailed
from lego_api.core.images import process_image
from lego_api.core.ownership import get_or_404
from lego_api.core.search.tasks import MAX_IDS, search_delete, search_index
from lego_api.core.updates import save_changes
from lego_api.core.uploads import check_part, delete_after_commit, undo_on_failure
from wishlist.file_kinds import WISHLIST_IMAGE
from wishlist.keys import wishlist_image_key
from wishlist.models import WishlistItem
from wishlist.search import KIND

WISHLIST_LABEL = "wishlist item"  # `Wishlist item not found` / `You do not own this wishlist item`
FAMILY = "wishlist"
IMAGE_MAX_WIDTH = 800  # SPEC §5.5 wishlist row
MSG_ITEMS_NOT_FOUND = "One or more items not found"


# --- Reads and helpers -----------------------------------------------------------------------------------------------


def wishlist_count(*, user_id: str) -> int:
    """The user's items: the profile's `stats.wishlistItems` (SPEC §3.12), registered in WishlistConfig."""
    return WishlistItem.objects.filter(user_id=user_id).count()


def wishlist_referenced_keys(keys: Sequence[str]) -> set[str]:
    """Which of these storage keys an item's `image_url` holds (the orphan sweep asks, one query per page)."""
    return set(WishlistItem.objects.filter(image_url__in=list(keys)).values_list("image_url", flat=True))


def uploaded_key(image_url: str | None) -> str | None:
    """The storage key of an image uploaded through W8; None for a client's URL or no image (SPEC §3.0)."""
    if not image_url or image_url.startswith(("http://", "https://")):
        return None
    return image_url


def names_uploaded_image(url: str | None, key: str | None) -> bool:
    """Whether `url` is a rendering of the uploaded image `key` (the CDN, presigned or media URL a client was given
    and sends back unchanged): its path ends with the key, which holds the item id and a random version."""
    return bool(url and key) and unquote(urlsplit(url).path).endswith(f"/{key}")


def wishlist_item_lock(*, item_id: UUID | str) -> WishlistItem:
    """The item row, locked `FOR UPDATE` until the transaction ends; 404 `Wishlist item not found` if it is gone."""
    return get_or_404(WishlistItem.objects.select_for_update().defer("search_vector"), item_id, label=WISHLIST_LABEL)


def lock_user_wishlist(*, user_id: str) -> None:
    """A transaction-scoped advisory lock on the user's wishlist: creates that pick `max + 1` take it one at a time.
    The key is a 64-bit hash of the user id, namespaced so that no other lock of the database shares it."""
    digest = hashlib.sha256(f"wishlist:{user_id}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


def next_sort_order(*, user_id: str) -> int:
    """The caller's highest `sort_order` + 1, or 0 for an empty wishlist (SPEC §4.4)."""
    highest = WishlistItem.objects.filter(user_id=user_id).aggregate(highest=Max("sort_order"))["highest"]
    return 0 if highest is None else highest + 1


def refresh_search_vector(*, item_id: UUID) -> None:
    """`search_vector` = title (A), category (B), description (C), english configuration (SPEC §3.0)."""
    WishlistItem.objects.filter(pk=item_id).update(
        search_vector=SearchVector("title", weight="A", config="english")
        + SearchVector("category", weight="B", config="english")
        + SearchVector("description", weight="C", config="english")
    )


def item_changed(*, item: WishlistItem) -> None:
    """After-commit effects of a change to an item's fields: bump the owner's wishlist family, re-index."""
    response_cache.bump(FAMILY, item.user_id)
    search_index.delay(KIND, str(item.id))


# --- W2, W6, W7 ------------------------------------------------------------------------------------------------------


@transaction.atomic
def wishlist_item_create(*, user_id: str, data: dict[str, Any]) -> WishlistItem:
    """W2: an item from validated item fields; without `sort_order`, the caller's maximum + 1 (under the user's
    lock, so that parallel creates get distinct values)."""
    fields = dict(data)
    if fields.get("sort_order") is None:
        lock_user_wishlist(user_id=user_id)
        fields["sort_order"] = next_sort_order(user_id=user_id)
    now = timezone.now()
    item = WishlistItem.objects.create(user_id=user_id, created_at=now, updated_at=now, **fields)
    refresh_search_vector(item_id=item.pk)
    item_changed(item=item)
    return item


@transaction.atomic
def wishlist_item_update(*, item: WishlistItem, data: dict[str, Any]) -> WishlistItem:
    """W6: apply validated item fields (a partial update) on the locked row. A new `image_url` is a client's URL,
    so the stored size goes (null), and an uploaded image it replaces is deleted after commit; the URL the API
    rendered for the uploaded image, sent back, changes nothing."""
    item = wishlist_item_lock(item_id=item.pk)
    fields = dict(data)
    if "image_url" in fields and names_uploaded_image(fields["image_url"], uploaded_key(item.image_url)):
        del fields["image_url"]  # the URL of the image it has: no change
    if "image_url" in fields and fields["image_url"] != item.image_url:
        delete_after_commit([uploaded_key(item.image_url)])
        fields.update(image_width=None, image_height=None)
    save_changes(item, fields)
    refresh_search_vector(item_id=item.pk)
    item_changed(item=item)
    return item


@transaction.atomic
def wishlist_item_delete(*, item: WishlistItem) -> None:
    """W7: delete the item; its uploaded image object goes after commit (SPEC §3.11), and its search document."""
    item = wishlist_item_lock(item_id=item.pk)
    user_id, item_id, key = item.user_id, str(item.pk), uploaded_key(item.image_url)
    item.delete()
    delete_after_commit([key])
    search_delete.delay(KIND, item_id)
    response_cache.bump(FAMILY, user_id)


# --- W4 ---------------------------------------------------------------------------------------------------------------

# One statement for the whole reorder: the new values travel as two arrays, unnested side by side.
_REORDER_SQL = f"""
UPDATE {WishlistItem._meta.db_table} AS item
SET sort_order = new.sort_order, updated_at = %s
FROM unnest(%s::uuid[], %s::integer[]) AS new(id, sort_order)
WHERE item.id = new.id AND item.user_id = %s
"""  # noqa: S608 - the table name is the model's; every value is a parameter


@transaction.atomic
def wishlist_reorder(*, user_id: str, orders: Sequence[dict[str, Any]]) -> int:
    """W4: set `sort_order` (and `updated_at`) of the listed items, all of them the caller's, in one statement.

    The rows are locked first, in id order, so that concurrent reorders cannot deadlock; 400 `One or more items not
    found` on `items` when any id is missing or another user's. Re-indexed after commit. Returns the entries count."""
    ids = [entry["id"] for entry in orders]
    locked = list(
        WishlistItem.objects.select_for_update()
        .filter(user_id=user_id, pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(locked) != len(ids):
        raise ValidationFailed.on_field("items", MSG_ITEMS_NOT_FOUND)
    with connection.cursor() as cursor:
        cursor.execute(_REORDER_SQL, [timezone.now(), ids, [entry["sort_order"] for entry in orders], user_id])
    response_cache.bump(FAMILY, user_id)
    text_ids = [str(item_id) for item_id in ids]
    for start in range(0, len(text_ids), MAX_IDS):
        search_index.delay(KIND, None, text_ids[start : start + MAX_IDS])
    return len(ids)


# --- W8 ---------------------------------------------------------------------------------------------------------------


def wishlist_item_set_image(*, item: WishlistItem, upload: UploadedFile, field: str) -> WishlistItem:
    """W8: check the file (SPEC §5.2), process it inline to at most 800 px wide WebP (§5.5), store it at a new key and
    point the item at it with its size; the replaced uploaded image is deleted after commit.

    On any failure the item and its old image are untouched and the new object is deleted again: everything that
    can refuse the file runs before the transaction, and the object is written last inside it."""
    check_part(WISHLIST_IMAGE, upload, field=field)
    upload.seek(0)
    processed = process_image(upload.file, max_width=IMAGE_MAX_WIDTH, field=field)
    with undo_on_failure() as writes, transaction.atomic():
        item = wishlist_item_lock(item_id=item.pk)
        replaced = uploaded_key(item.image_url)
        item.image_url = wishlist_image_key(item.user_id, item.pk)
        item.image_width, item.image_height = processed.width, processed.height
        item.updated_at = timezone.now()
        item.save(update_fields=["image_url", "image_width", "image_height", "updated_at"])
        writes.save_webp(item.image_url, processed.data)
        delete_after_commit([replaced])
        item_changed(item=item)  # the document's `updatedAt` moves too
    return item
