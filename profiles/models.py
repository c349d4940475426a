"""Profile rows: one per user id, mirroring the identity provider's email and name (SPEC §3.10)."""

import uuid

from django.db import models


class Profile(models.Model):
    """A user's profile; created on first authenticated request, filled from id-token claims."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.CharField(max_length=255, unique=True)
    email = models.EmailField(max_length=254, null=True, blank=True)
    name = models.CharField(max_length=100, null=True, blank=True)
    avatar_url = models.CharField(max_length=2048, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=models.functions.Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=models.functions.Now())

    class Meta:
        db_table = "profiles"
        indexes = [models.Index(fields=["email"], name="profiles_email_idx")]

    def __str__(self) -> str:
        return self.name or self.email or self.user_id
