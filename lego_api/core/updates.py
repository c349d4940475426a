"""Partial updates (SPEC §1.6: PATCH and PUT both partial), one way for every app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model
from django.utils import timezone


def save_changes(instance: Model, changes: Mapping[str, Any], *, stamp: str = "updated_at") -> None:
    """Set `changes` on the row, stamp its `stamp` timestamp with now, and save only those columns, so that a
    concurrent write to other columns (an upload setting `thumbnail_url`, say) is never overwritten."""
    for name, value in changes.items():
        setattr(instance, name, value)
    setattr(instance, stamp, timezone.now())
    instance.save(update_fields=[*changes, stamp])
