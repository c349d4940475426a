"""`manage.py seed_demo --users N --mocs M [...]`: realistic demo data for the admin, demos and the load tests.

Users `{prefix}0001` ... `{prefix}N` (default prefix `demo-`) each get M MOCs and sets (every one with a parts list,
the first few with an instruction PDF and a thumbnail in storage), gallery images (objects in storage) in albums,
wishlist items (a few with an uploaded image) and a profile (some with an avatar). Every app's seeder is registered
by the app (lego_api.core.seeding); the search indexes are filled and the users' cache families bumped at the end.
Seeding a user again replaces that user's rows. Deterministic with --seed (see lego_api.core.seeding).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lego_api.core import seeding


class Command(BaseCommand):
    help = "Create realistic demo data (MOCs, parts lists, gallery, wishlist, profiles) for N users."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, required=True, help="how many users (1-10000)")
        parser.add_argument("--mocs", type=int, required=True, help="MOCs and sets per user (0-2000)")
        parser.add_argument("--images", type=int, default=6, help="gallery images per user (default 6)")
        parser.add_argument("--albums", type=int, default=2, help="gallery albums per user (default 2)")
        parser.add_argument("--wishlist", type=int, default=12, help="wishlist items per user (default 12)")
        parser.add_argument("--parts", type=int, default=40, help="rows per seeded parts list, on average (40)")
        parser.add_argument(
            "--files", type=int, default=2, help="MOCs per user with an instruction PDF and a thumbnail (default 2)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1): same seed, same data")
        parser.add_argument("--prefix", default="demo-", help="user id prefix (default demo-)")
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="when these users already have every app's rows, only fill the search indexes with them",
        )

    def handle(self, *args, users: int, mocs: int, seed: int, prefix: str, if_missing: bool = False, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("seed_demo is refused in production")
        sizes = {
            "mocs": mocs,
            "images": options["images"],
            "albums": options["albums"],
            "wishlist": options["wishlist"],
            "parts": options["parts"],
            "files": options["files"],
        }
        limits = {"users": (users, 1, 10_000), "mocs": (mocs, 0, 2_000), "images": (sizes["images"], 0, 500)}
        limits |= {"albums": (sizes["albums"], 0, 100), "wishlist": (sizes["wishlist"], 0, 1_000)}
        limits |= {"parts": (sizes["parts"], 1, 10_000), "files": (sizes["files"], 0, mocs)}
        for name, (value, low, high) in limits.items():
            if not low <= value <= high:
                raise CommandError(f"--{name} must be between {low} and {high}")
        if not prefix or len(prefix) > 200 or not prefix.replace("-", "").replace("_", "").isalnum():
            raise CommandError("--prefix must be letters, digits, - or _ (at most 200)")
        seeders = seeding.registered_seeders()
        if not seeders:
            raise CommandError("no app has registered a seeder")
        user_ids = seeding.demo_user_ids(prefix, users)
        if if_missing and all(seeder.present(user_ids) for seeder in seeders):
            # An in-memory search server (the local emulator) forgets its indexes on restart: fill them again.
            ids = seeding.merge(seeding.SeedResult(index=s.indexed(user_ids)) for s in seeders if s.indexed).index
            indexed = seeding.index_seeded(ids)
            again = f"; indexed {seeding.describe(indexed)}" if indexed else ""
            self.stdout.write(f"{users} users ({user_ids[0]} ...) already seeded; nothing to do{again}")
            return
        began = time.perf_counter()
        results = []
        with transaction.atomic():  # a failed seed leaves nothing half-written in the database
            for seeder in reversed(seeders):  # a seeder that links to another's rows clears first
                seeder.clear(user_ids)
            for seeder in seeders:
                context = seeding.context_for(seeder, user_ids=user_ids, sizes=sizes, seed=seed)
                result = seeder.seed(context)
                results.append(result)
                self.stdout.write(f"  {seeder.name}: {seeding.describe(result.counts)}")
        total = seeding.merge(results)
        indexed = seeding.index_seeded(total.index)
        seeding.bump_families(user_ids, [family for seeder in seeders for family in seeder.families])
        summary = f"seeded {users} users ({user_ids[0]} ... {user_ids[-1]}): {seeding.describe(total.counts)}"
        summary += f"; {total.objects:,} objects in storage"
        if indexed:
            summary += f"; indexed {seeding.describe(indexed)}"
        self.stdout.write(self.style.SUCCESS(f"{summary} in {time.perf_counter() - began:.1f} s"))
