"""The wishlist's demo data for `manage.py seed_demo` (registered in WishlistConfig.ready()): items in each user's
own order (SPEC §3.9), with product links and categories; the first two of each user have an uploaded image in
storage (key of §5.3, 800 px wide as W8 stores them), some others an external image URL."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from lego_api.core import seeding
from wishlist.keys import wishlist_image_key
from wishlist.models import WishlistItem
from wishlist.search import KIND
from wishlist.services import refresh_search_vector

WANTED = [
    ("Millennium Falcon", "75192"), ("Eiffel Tower", "10307"), ("Titanic", "10294"), ("Colosseum", "10276"),
    ("Hogwarts Castle", "71043"), ("Bonsai Tree", "10281"), ("Tree House", "21318"), ("Police Station", "10278"),
    ("Lion Knights' Castle", "10305"), ("Orient Express", "21344"), ("Pirates of Barracuda Bay", "21322"),
    ("Bookshop", "10270"), ("Boutique Hotel", "10297"), ("Galaxy Explorer", "10497"),
]  # fmt: skip
CATEGORIES = ["Sets", "Parts", "Minifigures", "Books", None]
UPLOADED = 2  # items per user with an uploaded image


def seed_wishlist(ctx: seeding.SeedContext) -> seeding.SeedResult:
    rng = ctx.rng
    items: list[WishlistItem] = []
    objects: list[tuple[str, bytes, str, str | None]] = []
    for user_id in ctx.user_ids:
        for index in range(ctx.sizes["wishlist"]):
            name, number = WANTED[(index + rng.randrange(len(WANTED))) % len(WANTED)]
            item_id = ctx.uuid()
            created = ctx.moment(within_days=365)
            item = WishlistItem(
                id=item_id,
                user_id=user_id,
                title=f"{name} {number}",
                description=rng.choice([None, "For the shelf above the desk.", "Wait for a sale."]),
                product_link=f"https://www.lego.com/en-us/product/{number}",
                category=rng.choice(CATEGORIES),
                sort_order=index,
                created_at=created,
                updated_at=created,
            )
            if index < UPLOADED:
                item.image_url = wishlist_image_key(user_id, item_id, f"{rng.getrandbits(32):08x}")
                item.image_width, item.image_height = 800, 600
                objects.append((item.image_url, seeding.demo_image(800, 600, index), "image/webp", None))
            elif rng.random() < 0.3:
                item.image_url = f"https://images.example.com/sets/{number}.jpg"
            items.append(item)
    WishlistItem.objects.bulk_create(items, batch_size=2000)
    for item in items:  # the service's own expression (title A, category B, description C)
        refresh_search_vector(item_id=item.id)
    written = seeding.write_objects(objects)
    return seeding.SeedResult(
        counts={"wishlist items": len(items)}, index={KIND: [str(item.id) for item in items]}, objects=written
    )


def clear_wishlist(user_ids: Sequence[str]) -> None:
    from lego_api.core.storage import delete_keys

    keys = WishlistItem.objects.filter(user_id__in=user_ids, image_url__startswith="wishlist/")
    keys = list(keys.values_list("image_url", flat=True))
    WishlistItem.objects.filter(user_id__in=user_ids).delete()
    delete_keys(keys)


SEEDER = seeding.Seeder(
    name="wishlist",
    seed=seed_wishlist,
    clear=clear_wishlist,
    present=functools.partial(seeding.owners_present, WishlistItem),
    order=30,
    families=("wishlist",),
    indexed=functools.partial(seeding.owned_ids, KIND, WishlistItem),
)
