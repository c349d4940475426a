"""MOC tasks (SPEC §7.3): `parse_parts_list` for presigned parts-list uploads, and the hourly sweeper
`cleanup_stale_uploads`. Both take JSON-serialisable arguments only and are safe to run twice.

The services that queue these tasks import this module, so each task imports its services in its body.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from lego_api.core.orphans import unreferenced_objects_sweep
from lego_api.core.sweeper import run_sweep_steps
from lego_api.core.tasks import task

logger = logging.getLogger("mocs.tasks")

# Presigned uploads never finalized within this time are removed (SPEC §5.4 step 4).
STALE_PENDING_FILES_AFTER = timedelta(hours=24)


@task
def parse_parts_list(parts_list_id: str) -> None:
    """Parse a `pending` list's stored file: `ready` with its parts, or `failed` with `errorDetails`.

    No-op when the list is `ready` (or `failed`, or gone); the list's earlier parts are deleted before the insert.
    """
    from mocs.services.parsing import parts_list_parse_stored

    parts_list_parse_stored(parts_list_id=str(parts_list_id))


@task
def cleanup_stale_uploads() -> None:
    """The sweeper, run hourly by the Zappa schedule; every step is safe to re-run.

    1. `pending` moc_files rows older than 24 h are deleted with their objects.
    2. Parts lists `pending` or `parsing` for over 15 min are re-queued once, then marked `failed`.
    3. The steps other apps registered (`lego_api.core.sweeper`), e.g. the gallery's: images still not `ready`
       after 1 h are marked `failed`.
    4. Stored objects older than 1 h that no row references (left by storage outages) are deleted, under every
       prefix an app registered (`lego_api.core.orphans`).
    Owners' cache versions are bumped for what changes (step 4 changes no row).
    """
    from mocs.services.files import files_delete_stale_pending
    from mocs.services.parsing import parts_lists_sweep_stuck

    now = timezone.now()
    deleted = files_delete_stale_pending(older_than=now - STALE_PENDING_FILES_AFTER)
    requeued, failed = parts_lists_sweep_stuck(now=now)
    registered = run_sweep_steps(now=now)
    orphans = unreferenced_objects_sweep(now=now)
    logger.info(
        "stale uploads swept",
        extra={
            "pendingFilesDeleted": deleted,
            "partsListsRequeued": requeued,
            "partsListsFailed": failed,
            **registered,
            "unreferencedObjectsDeleted": orphans.deleted,
        },
    )
