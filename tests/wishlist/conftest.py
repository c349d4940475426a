"""Fixtures of the wishlist tests: `owner`, `api`, `other_api` and `anonymous` are the shared ones of
tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.wishlist.factories import WishlistItemFactory
from wishlist.models import WishlistItem


@pytest.fixture
def item(owner) -> WishlistItem:
    """An item of `owner`'s (a factory row: nothing indexed, no image)."""
    return WishlistItemFactory(user_id=owner)


@pytest.fixture
def create_item(api):
    """`create_item(title=..., **fields)`: W2 as the owner; the created WishlistItem representation."""

    def create(**fields) -> dict:
        response = api.post("/api/wishlist", {"title": "Modular Bakery", **fields}, format="json")
        assert response.status_code == 201, response.content
        return response.json()["data"]

    return create
