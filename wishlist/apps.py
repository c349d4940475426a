"""The wishlist app: its models and routes arrive with the wishlist issue."""

from django.apps import AppConfig


class WishlistConfig(AppConfig):
    name = "wishlist"

    def ready(self) -> None:
        from lego_api.core.cache import register_family

        register_family("wishlist")  # SPEC §6.1
