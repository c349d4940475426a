"""The gallery app: images (with their processing), albums, users' flags, the feed, and the gallery search index."""

from django.apps import AppConfig

# SPEC §4.3 G7/G8: a second flag by the same user on the same image, also when a race gets past the service's check.
ALREADY_FLAGGED = "You have already flagged this image"
# Every object this app writes is under one of these prefixes (SPEC §5.3): the processed images and thumbnails, and
# the originals waiting to be processed. The orphan sweep asks this app which of their keys its rows reference.
IMAGES_PREFIX = "images/"
STAGING_PREFIX = "tmp/"


class GalleryConfig(AppConfig):
    name = "gallery"

    def ready(self) -> None:
        from gallery.models import FLAG_CONSTRAINT
        from gallery.search import GALLERY_INDEX
        from gallery.services.counts import album_count, image_count
        from gallery.services.images import image_referenced_keys, staging_referenced_keys
        from gallery.services.processing import images_sweep_unfinished
        from lego_api.core.cache import register_family
        from lego_api.core.counts import register_counter
        from lego_api.core.errors import register_conflict
        from lego_api.core.orphans import register_key_prefix
        from lego_api.core.search import register
        from lego_api.core.seeding import register_seeder
        from lego_api.core.sweeper import register_sweep_step

        register_family("gallery")  # SPEC §6.1; the MOC detail key (M4) depends on it already
        register_conflict(FLAG_CONSTRAINT, ALREADY_FLAGGED)
        register(GALLERY_INDEX)
        register_key_prefix(IMAGES_PREFIX, image_referenced_keys)
        register_key_prefix(STAGING_PREFIX, staging_referenced_keys)
        register_sweep_step("galleryImagesFailed", images_sweep_unfinished)
        register_counter("images", image_count)  # the profile's stats (SPEC §3.12)
        register_counter("albums", album_count)
        register_seeder("gallery.seed.SEEDER")  # manage.py seed_demo (imported only there)
