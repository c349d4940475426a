"""The profiles' demo data for `manage.py seed_demo` (registered in ProfilesConfig.ready()): one profile row per
user with an email and a name (SPEC §3.10); every third user has an avatar in storage (256x256 WebP at the key of
§5.3)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from lego_api.core import seeding
from profiles.keys import avatar_key
from profiles.models import Profile

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Emil", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena"]
LAST = ["Brickman", "Studwell", "Plate", "Tiler", "Axleby", "Hinge", "Slope", "Baseplate"]


def seed_profiles(ctx: seeding.SeedContext) -> seeding.SeedResult:
    rng = ctx.rng
    profiles: list[Profile] = []
    objects: list[tuple[str, bytes, str, str | None]] = []
    for index, user_id in enumerate(ctx.user_ids):
        profile = Profile(
            id=ctx.uuid(),
            user_id=user_id,
            email=f"{user_id}@example.com",
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        )
        if index % 3 == 0:
            profile.avatar_url = avatar_key(user_id)
            objects.append((profile.avatar_url, seeding.demo_image(256, 256, index), "image/webp", None))
        profiles.append(profile)
    Profile.objects.bulk_create(profiles, batch_size=2000)
    written = seeding.write_objects(objects)
    return seeding.SeedResult(counts={"profiles": len(profiles)}, objects=written)


def clear_profiles(user_ids: Sequence[str]) -> None:
    from lego_api.core.storage import delete_keys

    keys = list(
        Profile.objects.filter(user_id__in=user_ids).exclude(avatar_url=None).values_list("avatar_url", flat=True)
    )
    Profile.objects.filter(user_id__in=user_ids).delete()
    delete_keys(keys)


SEEDER = seeding.Seeder(
    name="profiles",
    seed=seed_profiles,
    clear=clear_profiles,
    present=functools.partial(seeding.owners_present, Profile),
    order=40,
    families=("profile",),
)
