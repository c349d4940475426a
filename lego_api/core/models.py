"""Core's only table: cache debts, the namespace-version bumps that Redis missed (SPEC §6.1 "Consistency under
faults")."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class CacheDebt(models.Model):
    """A bump of `v:{family}:{user_id}` that failed after its write committed; the next process that reaches Redis
    applies it and deletes the row, and until then the user's reads bypass the response cache."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.CharField(max_length=255, db_index=True)
    family = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    class Meta:
        db_table = "core_cache_debt"

    def __str__(self) -> str:
        return f"{self.family} bump owed to {self.user_id}"
