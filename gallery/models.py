"""Gallery albums, images and the users' flags on images (SPEC §3.1, §3.2, §3.3)."""

from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

# The unique constraint behind G7/G8's 409 (its message is registered with core in GalleryConfig.ready()).
FLAG_CONSTRAINT = "gallery_flags_image_user_unique"


class ProcessingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class GalleryAlbum(models.Model):
    """A user's album of gallery images, with an optional cover image."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.CharField(max_length=255)
    title = models.CharField(max_length=200)
    description = models.TextField(null=True, blank=True)
    cover_image = models.ForeignKey(
        "GalleryImage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,  # the named index below
        related_name="covered_albums",
        db_column="cover_image_id",
    )
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    last_updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "gallery_albums"
        verbose_name = "album"
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="gallery_albums_user_idx"),
            models.Index(fields=["cover_image"], name="gallery_albums_cover_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class GalleryImage(models.Model):
    """A user's uploaded image: the processed WebP and its thumbnail, once `processing_status` is `ready`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.CharField(max_length=255)
    title = models.CharField(max_length=200)
    description = models.TextField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    image_url = models.CharField(max_length=2048)
    thumbnail_url = models.CharField(max_length=2048)
    album = models.ForeignKey(
        GalleryAlbum,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,  # (album_id, created_at DESC) below serves the lookups
        related_name="images",
        db_column="album_id",
    )
    flagged = models.BooleanField(default=False)
    processing_status = models.CharField(
        max_length=16, choices=ProcessingStatus.choices, default=ProcessingStatus.PENDING
    )
    processing_error = models.TextField(null=True, blank=True)
    staging_key = models.CharField(max_length=2048, null=True, blank=True, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    last_updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "gallery_images"
        verbose_name = "gallery image"
        constraints = [
            models.CheckConstraint(
                condition=Q(processing_status__in=["pending", "processing", "ready", "failed"]),
                name="gallery_images_processing_status_check",
            ),
        ]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="gallery_images_user_idx"),
            models.Index(fields=["album", "-created_at"], name="gallery_images_album_idx"),
            models.Index(
                fields=["user_id", "-created_at"],
                condition=Q(album__isnull=True),
                name="gallery_images_standalone_idx",
            ),
            GinIndex(fields=["tags"], opclasses=["jsonb_path_ops"], name="gallery_images_tags_gin"),
            models.Index(
                fields=["processing_status", "created_at"],
                condition=~Q(processing_status="ready"),
                name="gallery_images_unready_idx",
            ),
            GinIndex(fields=["search_vector"], name="gallery_images_search_gin"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="gallery_images_title_trgm_gin"),
        ]

    def __str__(self) -> str:
        return self.title


class GalleryFlag(models.Model):
    """One user's report of an image for moderation (one per user and image)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    image = models.ForeignKey(
        GalleryImage,
        on_delete=models.CASCADE,
        db_index=False,  # the unique (image_id, user_id) serves the lookups
        related_name="flags",
        db_column="image_id",
    )
    user_id = models.CharField(max_length=255)
    reason = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    last_updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "gallery_flags"
        verbose_name = "flag"
        constraints = [models.UniqueConstraint(fields=["image", "user_id"], name=FLAG_CONSTRAINT)]
        indexes = [
            models.Index(fields=["user_id"], name="gallery_flags_user_idx"),
            models.Index(fields=["created_at"], name="gallery_flags_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.image_id}"


class FlaggedImage(GalleryImage):
    """The admin's "Flagged images" moderation view (SPEC §7.2): gallery images seen through their users' flags."""

    class Meta:
        proxy = True
        verbose_name = "flagged image"
        verbose_name_plural = "Flagged images"
