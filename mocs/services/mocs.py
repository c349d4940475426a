"""MOC services: ownership lookups, create/update/delete, and the side effects every MOC change has
(updatedAt, search vector, cache bump, search indexing; SPEC §4.2, §6)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from lego_api.core import cache as response_cache
from lego_api.core import metrics
from lego_api.core.exceptions import Conflict
from lego_api.core.ownership import get_or_404, get_owned
from lego_api.core.search.tasks import search_delete, search_index
from lego_api.core.search.vector import document_vector
from lego_api.core.tasks import delete_storage_objects
from lego_api.core.updates import save_changes
from mocs.models import Moc, MocFile, MocGalleryImage, MocPartsList, PartsListStatus

DUPLICATE_TITLE = "A MOC with this title already exists"
MOC_LABEL = "MOC"  # the resource's name in `MOC not found` / `You do not own this MOC`


def gallery_image_links_queryset() -> QuerySet[MocGalleryImage]:
    """MOC-gallery image links with their images, by link time (MocDetail `images`, M15)."""
    links = MocGalleryImage.objects.select_related("gallery_image").defer("gallery_image__search_vector")
    return links.order_by("created_at", "id")


def moc_detail_queryset() -> QuerySet[Moc]:
    """MOCs with their files, parts lists and linked gallery images: one query each, however many there are."""
    links = Prefetch("gallery_image_links", queryset=gallery_image_links_queryset())
    return Moc.objects.prefetch_related("files", "parts_lists", links)


def moc_get_owned(*, user_id: str, moc_id: UUID | str, queryset: QuerySet[Moc] | None = None) -> Moc:
    """The MOC, or 404 `MOC not found` / 403 `You do not own this MOC` (SPEC §1.9)."""
    return get_owned(Moc.objects.all() if queryset is None else queryset, moc_id, user_id=user_id, label=MOC_LABEL)


def moc_lock(*, moc_id: UUID | str) -> Moc:
    """The MOC row, locked `FOR UPDATE` until the transaction ends; 404 `MOC not found` if it is gone.

    Every write that adds to, changes or deletes a MOC takes this lock first, so caps, the thumbnail swap and the
    delete's list of children are decided one writer at a time (SPEC §4.2 M11). Taking it first matters: a child
    row written before it would reference a MOC a concurrent delete may remove, which PostgreSQL reports only at
    commit (the foreign keys are deferred)."""
    return get_or_404(Moc.objects.select_for_update(), moc_id, label=MOC_LABEL)


def moc_count(*, user_id: str) -> int:
    """The user's MOCs and sets together: the profile's `stats.mocs` (SPEC §3.12), registered in MocsConfig."""
    return Moc.objects.filter(user_id=user_id).count()


def moc_title_taken(*, user_id: str, title: str, exclude_id: UUID | None = None) -> bool:
    queryset = Moc.objects.filter(user_id=user_id, title=title)
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return queryset.exists()


def moc_refresh_search_vector(*, moc_id: UUID) -> None:
    """`search_vector` = title (A), tags (B), description (C), english configuration (SPEC §3.0), computed by
    PostgreSQL in the UPDATE."""
    Moc.objects.filter(pk=moc_id).update(search_vector=document_vector())


def moc_changed(*, moc: Moc, reindex: bool = True) -> None:
    """After-commit effects of any change to a MOC or its children: bump the user's mocs family, re-index."""
    response_cache.bump("mocs", moc.user_id)
    if reindex:
        search_index.delay("mocs", str(moc.id))


def moc_touch(*, moc: Moc) -> None:
    """A child changed (file, parts list): set `updatedAt`, bump and re-index."""
    moc.updated_at = timezone.now()
    Moc.objects.filter(pk=moc.pk).update(updated_at=moc.updated_at)
    moc_changed(moc=moc)


def moc_recompute_total(*, moc: Moc) -> int | None:
    """`total_piece_count` = sum over the MOC's ready parts lists, null when it has none (SPEC §5.6)."""
    ready = MocPartsList.objects.filter(moc_id=moc.pk, status=PartsListStatus.READY)
    total = ready.aggregate(total=Sum("total_parts_count"))["total"] if ready.exists() else None
    moc.total_piece_count = total
    Moc.objects.filter(pk=moc.pk).update(total_piece_count=total)
    return total


@transaction.atomic
def moc_create(*, user_id: str, data: dict[str, Any]) -> Moc:
    """Create a MOC or set from MocWrite data that the serializer validated; 409 on a duplicate title."""
    if moc_title_taken(user_id=user_id, title=data["title"]):
        raise Conflict(DUPLICATE_TITLE)
    now = timezone.now()
    fields = dict(data)
    if fields.get("type") == "moc" and not fields.get("uploaded_date"):
        fields["uploaded_date"] = now
    if fields.get("type") == "set" and fields.get("retired") is None:
        fields["retired"] = False
    fields.setdefault("tags", [])
    moc = Moc.objects.create(user_id=user_id, created_at=now, updated_at=now, **fields)
    moc_refresh_search_vector(moc_id=moc.pk)
    moc_changed(moc=moc)
    metrics.emit_on_commit("MocsCreated", 1, properties={"type": moc.type})
    return moc


@transaction.atomic
def moc_update(*, moc: Moc, data: dict[str, Any]) -> Moc:
    """Apply a partial MocWrite (already validated against the MOC's type); 409 on a duplicate title.

    Only the given fields are written, on the locked row: a concurrent upload's thumbnail or total is kept."""
    moc = moc_lock(moc_id=moc.pk)
    if (
        "title" in data
        and data["title"] != moc.title
        and moc_title_taken(user_id=moc.user_id, title=data["title"], exclude_id=moc.pk)
    ):
        raise Conflict(DUPLICATE_TITLE)
    save_changes(moc, data)
    moc_refresh_search_vector(moc_id=moc.pk)
    moc_changed(moc=moc)
    return moc


@transaction.atomic
def moc_delete(*, moc: Moc) -> None:
    """Delete a MOC with its files, parts lists and parts; objects (pending ones too) go after commit.

    Under the MOC lock, so no upload adds a child between the listing of the children and the delete."""
    moc = moc_lock(moc_id=moc.pk)
    keys = list(MocFile.objects.filter(moc_id=moc.pk).values_list("file_url", flat=True))
    user_id, moc_id = moc.user_id, str(moc.pk)
    moc.delete()
    if keys:
        delete_storage_objects.delay(keys)
    search_delete.delay("mocs", moc_id)
    response_cache.bump("mocs", user_id)
