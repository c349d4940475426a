"""The gallery's demo data for `manage.py seed_demo` (registered in GalleryConfig.ready()): albums and processed
images (`ready`, SPEC §3.1, §3.2) whose WebP image and thumbnail exist in storage at their keys (§5.3); the first
image of each album is its cover, some images stay out of albums (the feed's standalone images)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from gallery.keys import gallery_image_key, gallery_thumbnail_key
from gallery.models import GalleryAlbum, GalleryImage, ProcessingStatus
from gallery.search import KIND
from lego_api.core import seeding
from lego_api.core.search.vector import document_vector

SUBJECTS = ["Cafe Corner", "Moon Rover", "Castle Gate", "Harbour at Dusk", "Train Yard", "Forest Hut", "Bridge"]
ALBUMS = ["Work in progress", "Finished builds", "Conventions", "Microscale", "Holiday builds"]
TAGS = ["wip", "finished", "display", "lighting", "moc", "minifigs", "diorama", "photo"]


def seed_gallery(ctx: seeding.SeedContext) -> seeding.SeedResult:
    rng = ctx.rng
    albums: list[GalleryAlbum] = []
    images: list[GalleryImage] = []
    objects: list[tuple[str, bytes, str, str | None]] = []
    for user_id in ctx.user_ids:
        own_albums = []
        for index in range(ctx.sizes["albums"]):
            created = ctx.moment(within_days=540)
            album = GalleryAlbum(
                id=ctx.uuid(),
                user_id=user_id,
                title=f"{ALBUMS[index % len(ALBUMS)]} {index // len(ALBUMS) + 1}",
                description=rng.choice([None, "Photos from the build table."]),
                created_at=created,
                last_updated_at=created,
            )
            own_albums.append(album)
        for index in range(ctx.sizes["images"]):
            image_id = ctx.uuid()
            created = ctx.moment(within_days=540)
            album = rng.choice(own_albums) if own_albums and rng.random() < 0.6 else None
            image = GalleryImage(
                id=image_id,
                user_id=user_id,
                title=f"{rng.choice(SUBJECTS)} {index + 1}",
                description=rng.choice([None, "Shot on a light box.", "Detail of the interior."]),
                tags=rng.sample(TAGS, rng.randint(0, 3)),
                image_url=gallery_image_key(user_id, image_id),
                thumbnail_url=gallery_thumbnail_key(user_id, image_id),
                album=album,
                processing_status=ProcessingStatus.READY,
                created_at=created,
                last_updated_at=created,
            )
            images.append(image)
            colour = rng.randrange(len(seeding.BRICK_COLOURS))
            objects.append((image.image_url, seeding.demo_image(800, 600, colour), "image/webp", None))
            objects.append((image.thumbnail_url, seeding.demo_image(400, 300, colour), "image/webp", None))
            if album is not None and album.cover_image is None:
                album.cover_image = image
        albums.extend(own_albums)
    covers = {album.id: album.cover_image for album in albums}
    for album in albums:
        album.cover_image = None  # the images are not written yet; set below
    GalleryAlbum.objects.bulk_create(albums, batch_size=2000)
    GalleryImage.objects.bulk_create(images, batch_size=2000)
    for album in albums:
        album.cover_image = covers[album.id]
    GalleryAlbum.objects.bulk_update([a for a in albums if a.cover_image is not None], ["cover_image"], batch_size=2000)
    GalleryImage.objects.filter(user_id__in=ctx.user_ids).update(search_vector=document_vector())
    written = seeding.write_objects(objects)
    return seeding.SeedResult(
        counts={"albums": len(albums), "gallery images": len(images)},
        index={KIND: [str(image.id) for image in images]},
        objects=written,
    )


def clear_gallery(user_ids: Sequence[str]) -> None:
    from lego_api.core.storage import delete_keys

    keys = []
    for image_url, thumbnail_url in GalleryImage.objects.filter(user_id__in=user_ids).values_list(
        "image_url", "thumbnail_url"
    ):
        keys += [image_url, thumbnail_url]
    GalleryImage.objects.filter(user_id__in=user_ids).delete()
    GalleryAlbum.objects.filter(user_id__in=user_ids).delete()
    delete_keys(keys)


SEEDER = seeding.Seeder(
    name="gallery",
    seed=seed_gallery,
    clear=clear_gallery,
    present=functools.partial(seeding.owners_present, GalleryImage),
    order=10,
    families=("gallery",),
    indexed=functools.partial(seeding.owned_ids, KIND, GalleryImage),
)
