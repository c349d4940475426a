"""The orphan sweep, a step of the sweeper `cleanup_stale_uploads` (SPEC §5.3, §7.3): stored objects that no row
references are deleted once they are older than a grace period.

Orphans come from storage outages: an upload that fails after writing objects cannot delete them from a storage that
has gone away, and a paused storage server may complete, when it resumes, a write the API had given up on. Each app
registers, in its AppConfig.ready(), the key prefix it writes under and a function telling which keys of a listing
page its rows reference (one query per page); core knows no app.

The grace period (1 h) is far longer than any request (Lambda stops one after 15 min), so an object whose row is
about to be inserted is never taken; a presigned upload's row exists (`pending`) before its object, so its object is
referenced from the start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from lego_api.core import storage
from lego_api.core.tasks import delete_storage_objects

logger = logging.getLogger("lego_api.orphans")

UNREFERENCED_GRACE = timedelta(hours=1)
# Bounds one run (S3 lists 1000 keys a call and deletes 1000 a call); the hourly schedule takes the rest.
MAX_DELETIONS_PER_RUN = 10_000

# Given keys under the app's prefix, the subset that the app's rows reference.
ReferencedKeys = Callable[[Sequence[str]], set[str]]

_registry: dict[str, ReferencedKeys] = {}


def register_key_prefix(prefix: str, referenced: ReferencedKeys) -> None:
    """Declare that the calling app owns the objects under `prefix` (ending with `/`) and that `referenced(keys)`
    answers which of up to 1000 of its keys a row references. Prefixes may not overlap: an object has one owner."""
    if not prefix.endswith("/") or prefix == "/":
        raise ImproperlyConfigured(f"A key prefix must be a non-empty folder ending with '/': {prefix!r}")
    for registered in _registry:
        if registered != prefix and (registered.startswith(prefix) or prefix.startswith(registered)):
            raise ImproperlyConfigured(f"Key prefix {prefix!r} overlaps {registered!r}")
    _registry[prefix] = referenced


def registered_prefixes() -> list[str]:
    return sorted(_registry)


@dataclass
class SweepResult:
    listed: int = 0
    deleted: int = 0
    exhausted: bool = False  # stopped at the deletion bound; the next run continues


def unreferenced_objects_sweep(
    *,
    now: datetime | None = None,
    grace: timedelta = UNREFERENCED_GRACE,
    within: str | None = None,
    page_size: int = storage.S3_LIST_PAGE,
    max_deletions: int = MAX_DELETIONS_PER_RUN,
) -> SweepResult:
    """Delete objects under the registered prefixes (or only under `within`, itself under one of them) last
    modified before `now - grace` that no row references, at most `max_deletions` of them; each deleted batch is
    logged with its keys. Safe to re-run; a storage or database error is raised (the task is retried)."""
    older_than = (now or timezone.now()) - grace
    result = SweepResult()
    for prefix, referenced in _owners(within):
        for page in storage.list_objects(prefix, page_size=page_size):
            result.listed += len(page)
            old = [item.key for item in page if item.last_modified < older_than]
            if not old:
                continue
            kept = referenced(old)
            orphans = [key for key in old if key not in kept][: max_deletions - result.deleted]
            if orphans:
                delete_storage_objects(orphans)
                result.deleted += len(orphans)
                logger.info(
                    "unreferenced objects deleted", extra={"prefix": prefix, "count": len(orphans), "keys": orphans}
                )
            if result.deleted >= max_deletions:
                result.exhausted = True
                logger.warning("orphan sweep stopped at its bound", extra={"maxDeletions": max_deletions})
                return result
    return result


def _owners(within: str | None) -> list[tuple[str, ReferencedKeys]]:
    if within is None:
        return sorted(_registry.items())
    for prefix, referenced in _registry.items():
        if within.startswith(prefix):
            return [(within, referenced)]
    raise ValueError(f"{within!r} is under no registered key prefix ({', '.join(registered_prefixes())})")
