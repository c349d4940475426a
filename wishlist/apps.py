"""The wishlist app: the items users want, in their own order, with an optional uploaded image."""

from django.apps import AppConfig

# Every object this app writes is under this prefix (SPEC §5.3); the orphan sweep asks this app about its keys.
KEY_PREFIX = "wishlist/"


class WishlistConfig(AppConfig):
    name = "wishlist"

    def ready(self) -> None:
        from lego_api.core.cache import register_family
        from lego_api.core.counts import register_counter
        from lego_api.core.orphans import register_key_prefix
        from lego_api.core.search import register
        from lego_api.core.seeding import register_seeder
        from wishlist.search import WISHLIST_INDEX
        from wishlist.services import wishlist_count, wishlist_referenced_keys

        register_family("wishlist")  # SPEC §6.1
        register(WISHLIST_INDEX)
        register_key_prefix(KEY_PREFIX, wishlist_referenced_keys)
        register_counter("wishlistItems", wishlist_count)
        register_seeder("wishlist.seed.SEEDER")  # manage.py seed_demo (imported only there)
