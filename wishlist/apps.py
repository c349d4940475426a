"""The wishlist app: its models and routes arrive with the wishlist issue."""

from django.apps import AppConfig


class WishlistConfig(AppConfig):
    name = "wishlist"
