"""How many files a MOC and a request may have (SPEC §4.2 M7-M11, M17, M20; §5.1 counts), decided in one place.

Per-MOC caps are 409s. A cap check is decisive only under `moc_lock`, which every writer of a MOC's files and lists
takes first; routes also check early, unlocked, so that a full MOC answers 409 before its files are read. The
per-request counts of M7/M8/M9 are 400s, checked before anything is written."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count

from lego_api.core.exceptions import Conflict
from lego_api.core.files import MB
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType, MocPartsList

MAX_INSTRUCTION_FILES = 10
MAX_PARTS_LISTS = 10
MAX_GALLERY_IMAGE_FILES = 10
# Per request: the multi-file request (M7, M11), and the files of a new MOC (M7, M8).
MAX_FILES_PER_REQUEST = 10
MAX_REQUEST_FILES_BYTES = 50 * MB
MAX_IMAGES_PER_CREATE = 3
MAX_THUMBNAILS_PER_REQUEST = 1

MSG_INSTRUCTION_CAP = "MOC already has 10 instruction files"
MSG_PARTS_LIST_CAP = "A MOC can have at most 10 parts lists"
MSG_GALLERY_IMAGE_CAP = "MOC already has 10 gallery images"
MSG_INSTRUCTION_REQUIRED = "At least one instruction file is required"
MSG_TOO_MANY_INSTRUCTIONS = "At most 10 instruction files are allowed"
MSG_TOO_MANY_PARTS_LISTS = "At most 10 parts lists are allowed"
MSG_TOO_MANY_IMAGES = "At most 3 images are allowed"
MSG_TOO_MANY_THUMBNAILS = "At most 1 thumbnail is allowed"


def parts_list_slots_used(*, moc: Moc) -> int:
    """Lists the MOC has, plus parts-list files still pending: each of those becomes a list on finalize (M10), so
    it holds its place under the cap."""
    lists = MocPartsList.objects.filter(moc_id=moc.pk).count()
    pending = MocFile.objects.filter(
        moc_id=moc.pk, file_type=MocFileType.PARTS_LIST, status=MocFileStatus.PENDING
    ).count()
    return lists + pending


def check_parts_list_room(*, moc: Moc, adding: int = 1) -> None:
    """409 `A MOC can have at most 10 parts lists` when `adding` more lists would pass the cap: the one rule for
    every way a list is made (M7, M10, M11, M17/M18, M20)."""
    if parts_list_slots_used(moc=moc) + adding > MAX_PARTS_LISTS:
        raise Conflict(MSG_PARTS_LIST_CAP)


def check_file_caps(*, moc: Moc, adding: Counter[str]) -> None:
    """409 when adding files of these types would pass a per-MOC cap (existing files, pending ones included)."""
    if not adding:
        return
    rows = MocFile.objects.filter(moc_id=moc.pk).values("file_type").annotate(n=Count("id")).order_by()
    counts = Counter({row["file_type"]: row["n"] for row in rows})
    if adding[MocFileType.INSTRUCTION] and (
        counts[MocFileType.INSTRUCTION] + adding[MocFileType.INSTRUCTION] > MAX_INSTRUCTION_FILES
    ):
        raise Conflict(MSG_INSTRUCTION_CAP)
    if adding[MocFileType.PARTS_LIST]:
        check_parts_list_room(moc=moc, adding=adding[MocFileType.PARTS_LIST])
    if adding[MocFileType.GALLERY_IMAGE] and (
        counts[MocFileType.GALLERY_IMAGE] + adding[MocFileType.GALLERY_IMAGE] > MAX_GALLERY_IMAGE_FILES
    ):
        raise Conflict(MSG_GALLERY_IMAGE_CAP)
