"""The MOC instructions app: MOCs and sets, their files, parts lists and parts."""

from django.apps import AppConfig

# This app's unique constraints and the 409 message each one answers when a race gets past a service's own check
# (SPEC §3.0, §3.4, §3.5).
TITLE_CONSTRAINT = "moc_instructions_user_title_unique"
THUMBNAIL_CONSTRAINT = "moc_files_one_thumbnail"
THUMBNAIL_TAKEN = "MOC already has a thumbnail"
IMAGE_LINK_CONSTRAINT = "moc_gallery_images_moc_image_unique"
ALBUM_LINK_CONSTRAINT = "moc_gallery_albums_moc_album_unique"
# Every object this app writes is under this prefix (SPEC §5.3); the orphan sweep asks this app about its keys.
KEY_PREFIX = "mocs/"


class MocsConfig(AppConfig):
    name = "mocs"
    verbose_name = "MOC instructions"

    def ready(self) -> None:
        from lego_api.core.cache import register_family
        from lego_api.core.counts import register_counter
        from lego_api.core.errors import register_conflict
        from lego_api.core.orphans import register_key_prefix
        from lego_api.core.search import register
        from lego_api.core.seeding import register_seeder
        from mocs.search import MOC_INDEX
        from mocs.services.files import files_referenced_keys
        from mocs.services.links import ALBUM_ALREADY_LINKED, IMAGE_ALREADY_LINKED
        from mocs.services.mocs import DUPLICATE_TITLE, moc_count

        register_family("mocs")
        register(MOC_INDEX)
        register_conflict(TITLE_CONSTRAINT, DUPLICATE_TITLE)
        register_conflict(THUMBNAIL_CONSTRAINT, THUMBNAIL_TAKEN)
        register_conflict(IMAGE_LINK_CONSTRAINT, IMAGE_ALREADY_LINKED)
        register_conflict(ALBUM_LINK_CONSTRAINT, ALBUM_ALREADY_LINKED)
        register_key_prefix(KEY_PREFIX, files_referenced_keys)
        register_counter("mocs", moc_count)
        register_seeder("mocs.seed.SEEDER")  # manage.py seed_demo (imported only there)
