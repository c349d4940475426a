"""Wishlist items (SPEC §3.9): the sets and parts a user wants, in the user's own order."""

from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone


class WishlistItem(models.Model):
    """One thing a user wants: a title, optional link, image and category, and its place in the user's list."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    product_link = models.CharField(max_length=2048, null=True, blank=True)
    # A file reference (SPEC §3.0): a client's http(s) URL, or the key of an image uploaded through W8.
    image_url = models.CharField(max_length=2048, null=True, blank=True)
    image_width = models.IntegerField(null=True, blank=True)
    image_height = models.IntegerField(null=True, blank=True)
    category = models.CharField(max_length=100, null=True, blank=True)
    sort_order = models.IntegerField()
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "wishlist_items"
        verbose_name = "wishlist item"
        constraints = [
            models.CheckConstraint(condition=Q(sort_order__gte=0), name="wishlist_items_sort_order_check"),
        ]
        indexes = [
            models.Index(fields=["user_id", "sort_order", "created_at"], name="wishlist_user_order_idx"),
            models.Index(fields=["user_id", "category", "sort_order"], name="wishlist_user_category_idx"),
            GinIndex(fields=["search_vector"], name="wishlist_search_vector_gin"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="wishlist_title_trgm_gin"),
        ]

    def __str__(self) -> str:
        return self.title
