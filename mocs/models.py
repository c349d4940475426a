"""MOC instructions (MOCs and sets in one table), their files, parts lists and parts, and their links to gallery
images and albums (SPEC §3.4-§3.8)."""

from __future__ import annotations

import uuid

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone


class MocType(models.TextChoices):
    MOC = "moc", "MOC"
    SET = "set", "Set"


class Moc(models.Model):
    """A user's MOC (their own creation) or a LEGO set they keep instructions for, discriminated by `type`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.CharField(max_length=255)
    type = models.CharField(max_length=3, choices=MocType.choices)
    title = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    author = models.CharField(max_length=255, null=True, blank=True)
    parts_count = models.IntegerField(null=True, blank=True)
    theme = models.CharField(max_length=255, null=True, blank=True)
    subtheme = models.CharField(max_length=255, null=True, blank=True)
    uploaded_date = models.DateTimeField(null=True, blank=True)
    brand = models.CharField(max_length=255, null=True, blank=True)
    set_number = models.CharField(max_length=50, null=True, blank=True)
    release_year = models.SmallIntegerField(null=True, blank=True)
    retired = models.BooleanField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    thumbnail_url = models.CharField(max_length=2048, null=True, blank=True)
    total_piece_count = models.IntegerField(null=True, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "moc_instructions"
        verbose_name = "MOC"
        verbose_name_plural = "MOCs"
        constraints = [
            models.UniqueConstraint(fields=["user_id", "title"], name="moc_instructions_user_title_unique"),
            models.CheckConstraint(condition=Q(type__in=["moc", "set"]), name="moc_instructions_type_check"),
            models.CheckConstraint(condition=Q(release_year__gte=1950), name="moc_instructions_release_year_check"),
            models.CheckConstraint(condition=Q(parts_count__gte=1), name="moc_instructions_parts_count_check"),
            models.CheckConstraint(
                condition=Q(total_piece_count__gte=0), name="moc_instructions_total_piece_count_check"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        type="moc",
                        author__isnull=False,
                        parts_count__isnull=False,
                        theme__isnull=False,
                        set_number__isnull=False,
                        brand__isnull=True,
                        release_year__isnull=True,
                        retired__isnull=True,
                    )
                    | Q(
                        type="set",
                        brand__isnull=False,
                        theme__isnull=False,
                        set_number__isnull=False,
                        author__isnull=True,
                        parts_count__isnull=True,
                        subtheme__isnull=True,
                        uploaded_date__isnull=True,
                    )
                ),
                name="moc_instructions_type_fields_check",
            ),
        ]
        indexes = [
            models.Index(fields=["user_id", "-updated_at"], name="moc_user_updated_idx"),
            models.Index(fields=["user_id", "created_at"], name="moc_user_created_idx"),
            GinIndex(fields=["tags"], name="moc_tags_gin"),
            models.Index(fields=["brand", "set_number"], condition=Q(type="set"), name="moc_set_number_idx"),
            GinIndex(fields=["search_vector"], name="moc_search_vector_gin"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="moc_title_trgm_gin"),
        ]

    def __str__(self) -> str:
        return self.title


class MocFileType(models.TextChoices):
    INSTRUCTION = "instruction", "Instruction"
    PARTS_LIST = "parts-list", "Parts list"
    THUMBNAIL = "thumbnail", "Thumbnail"
    GALLERY_IMAGE = "gallery-image", "Gallery image"


class MocFileStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"


class MocFile(models.Model):
    """A stored file of a MOC; `pending` while a presigned upload has not been finalized."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    moc = models.ForeignKey(Moc, on_delete=models.CASCADE, related_name="files", db_column="moc_id")
    file_type = models.CharField(max_length=20, choices=MocFileType.choices)
    file_url = models.CharField(max_length=2048)
    original_filename = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=127)
    file_size = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=MocFileStatus.choices, default=MocFileStatus.READY)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "moc_files"
        constraints = [
            models.CheckConstraint(
                condition=Q(file_type__in=["instruction", "parts-list", "thumbnail", "gallery-image"]),
                name="moc_files_file_type_check",
            ),
            models.CheckConstraint(condition=Q(status__in=["pending", "ready"]), name="moc_files_status_check"),
            models.UniqueConstraint(
                fields=["moc"], condition=Q(file_type="thumbnail", status="ready"), name="moc_files_one_thumbnail"
            ),
        ]
        indexes = [
            models.Index(fields=["moc", "file_type"], name="moc_files_moc_type_idx"),
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="moc_files_pending_idx"),
        ]

    def __str__(self) -> str:
        return self.original_filename


class PartsListStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PARSING = "parsing", "Parsing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class MocPartsList(models.Model):
    """A parts list of a MOC: parsed from an uploaded file, or entered by hand (`format = manual`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    moc = models.ForeignKey(Moc, on_delete=models.CASCADE, related_name="parts_lists", db_column="moc_id")
    file = models.ForeignKey(
        MocFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="parts_lists", db_column="file_id"
    )
    title = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=PartsListStatus.choices, default=PartsListStatus.READY)
    format = models.CharField(max_length=32, null=True, blank=True)
    error_details = models.JSONField(null=True, blank=True)
    built = models.BooleanField(default=False)
    purchased = models.BooleanField(default=False)
    inventory_percentage = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    total_parts_count = models.IntegerField(default=0)
    unique_parts_count = models.IntegerField(default=0)
    row_count = models.IntegerField(default=0)
    acquired_parts_count = models.IntegerField(default=0)
    cost_estimate = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    actual_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    notes = models.TextField(null=True, blank=True)
    parse_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "moc_parts_lists"
        verbose_name = "parts list"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "parsing", "ready", "failed"]), name="moc_parts_lists_status_check"
            ),
            models.CheckConstraint(
                condition=Q(inventory_percentage__gte=0, inventory_percentage__lte=100),
                name="moc_parts_lists_inventory_check",
            ),
            models.CheckConstraint(condition=Q(acquired_parts_count__gte=0), name="moc_parts_lists_acquired_check"),
            models.CheckConstraint(condition=Q(cost_estimate__gte=0), name="moc_parts_lists_cost_estimate_check"),
            models.CheckConstraint(condition=Q(actual_cost__gte=0), name="moc_parts_lists_actual_cost_check"),
        ]
        indexes = [
            models.Index(fields=["moc", "created_at"], name="moc_parts_lists_moc_idx"),
            models.Index(
                fields=["status", "parse_started_at"],
                condition=Q(status__in=["pending", "parsing"]),
                name="moc_parts_lists_stuck_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MocPart(models.Model):
    """One record of a parts list, in file order (duplicates are kept)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    parts_list = models.ForeignKey(
        MocPartsList, on_delete=models.CASCADE, related_name="parts", db_column="parts_list_id"
    )
    part_id = models.CharField(max_length=64, db_index=True)
    part_name = models.CharField(max_length=255, null=True, blank=True)
    color = models.CharField(max_length=64, null=True, blank=True)
    quantity = models.IntegerField()
    category = models.CharField(max_length=100, null=True, blank=True)
    is_spare = models.BooleanField(default=False)
    line_number = models.IntegerField()

    class Meta:
        db_table = "moc_parts"
        verbose_name = "part"
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="moc_parts_quantity_check")]
        indexes = [models.Index(fields=["parts_list", "line_number"], name="moc_parts_list_line_idx")]

    def __str__(self) -> str:
        return f"{self.part_id} x{self.quantity}"


class MocGalleryImage(models.Model):
    """A gallery image shown with a MOC (M14-M16); deleting the MOC or the image deletes the link, never the other."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    moc = models.ForeignKey(
        Moc,
        on_delete=models.CASCADE,
        db_index=False,  # the unique (moc_id, gallery_image_id) serves the lookups
        related_name="gallery_image_links",
        db_column="moc_id",
    )
    gallery_image = models.ForeignKey(
        "gallery.GalleryImage",
        on_delete=models.CASCADE,
        db_index=False,  # the named index below
        related_name="moc_links",
        db_column="gallery_image_id",
    )
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "moc_gallery_images"
        verbose_name = "MOC gallery image link"
        constraints = [
            models.UniqueConstraint(fields=["moc", "gallery_image"], name="moc_gallery_images_moc_image_unique")
        ]
        indexes = [models.Index(fields=["gallery_image"], name="moc_gallery_images_image_idx")]

    def __str__(self) -> str:
        return f"{self.moc_id} - {self.gallery_image_id}"


class MocGalleryAlbum(models.Model):
    """A gallery album shown with a MOC; managed in the admin only (no public route in v1)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    moc = models.ForeignKey(
        Moc,
        on_delete=models.CASCADE,
        db_index=False,  # the unique (moc_id, gallery_album_id) serves the lookups
        related_name="gallery_album_links",
        db_column="moc_id",
    )
    gallery_album = models.ForeignKey(
        "gallery.GalleryAlbum",
        on_delete=models.CASCADE,
        db_index=False,  # the named index below
        related_name="moc_links",
        db_column="gallery_album_id",
    )
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "moc_gallery_albums"
        verbose_name = "MOC gallery album link"
        constraints = [
            models.UniqueConstraint(fields=["moc", "gallery_album"], name="moc_gallery_albums_moc_album_unique")
        ]
        indexes = [models.Index(fields=["gallery_album"], name="moc_gallery_albums_album_idx")]

    def __str__(self) -> str:
        return f"{self.moc_id} - {self.gallery_album_id}"
