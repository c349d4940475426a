"""Ownership lookups of SPEC §1.9, one rule for every resource: a path resource that is missing answers 404
`{Label} not found`, another user's answers 403 `You do not own this {label}` (SPEC §1.3); a child resource of an
already-checked parent answers only 404. The label is the resource's name as the messages spell it (`MOC`, `image`,
`album`, `wishlist item`, `file`, `parts list`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Model, QuerySet

from lego_api.core.exceptions import Forbidden, NotFound


def sentence_label(label: str) -> str:
    """`MOC` -> `MOC`, `wishlist item` -> `Wishlist item`: the label at the start of a message."""
    return label[:1].upper() + label[1:]


def not_found_message(label: str) -> str:
    """`MOC` -> `MOC not found`, `wishlist item` -> `Wishlist item not found`."""
    return f"{sentence_label(label)} not found"


def forbidden_message(label: str) -> str:
    return f"You do not own this {label}"


def get_or_404[ModelT: Model](queryset: QuerySet[ModelT], pk: UUID | str, *, label: str) -> ModelT:
    """The row with this primary key in `queryset` (already narrowed to a parent, if any), or 404 `{Label} not found`."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise NotFound(not_found_message(label))
    return row


def get_owned[ModelT: Model](
    queryset: QuerySet[ModelT], pk: UUID | str, *, user_id: Any, label: str, owner_field: str = "user_id"
) -> ModelT:
    """The row with this primary key, or 404 `{Label} not found`, or 403 `You do not own this {label}` when
    `owner_field` names another user. `queryset` must not be scoped to the caller, or a foreign row would be 404."""
    row = get_or_404(queryset, pk, label=label)
    if getattr(row, owner_field) != user_id:
        raise Forbidden(forbidden_message(label))
    return row
