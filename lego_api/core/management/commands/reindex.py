"""`manage.py reindex [--index NAME] [--recreate]`: create missing search indexes with their mappings
(`--recreate` drops them first), then bulk-index every row from the database in batches of 500 (SPEC §6.2).
Covers every index an app has registered; the work itself is in `lego_api.core.search.reindex`."""

from django.core.management.base import BaseCommand, CommandError

from lego_api.core import search

BATCH_SIZE = 500


class Command(BaseCommand):
    help = "Create missing search indexes (--recreate drops them first) and bulk-index every row from the database."

    def add_arguments(self, parser):
        available = ", ".join(search.registered()) or "none yet"
        parser.add_argument("--index", help=f"only this index (default: every registered one: {available})")
        parser.add_argument("--recreate", action="store_true", help="drop the index first, then rebuild it")

    def handle(self, *args, index: str | None = None, recreate: bool = False, verbosity: int = 1, **options):
        if not search.search_enabled():
            raise CommandError("OPENSEARCH_URL is not set: there is no search server to index into")
        available = search.registered()
        if index and index not in available:
            raise CommandError(f"Unknown index {index!r}: the indexes are {', '.join(sorted(available))}")
        for kind in [index] if index else list(available):
            name = search.index_name(kind)
            action = "Recreating" if recreate else "Indexing into"
            self.stdout.write(f"{action} {name} ...")
            try:
                done, failed = search.reindex(
                    kind,
                    recreate=recreate,
                    batch_size=BATCH_SIZE,
                    progress=(lambda n: self.stdout.write(f"  {n} documents")) if verbosity >= 2 else None,
                )
            except Exception as exc:  # report which index failed, as a command error
                raise CommandError(f"{name}: {type(exc).__name__}: {exc}") from exc
            summary = f"{name}: {done} documents indexed" + (f", {failed} rejected (see the log)" if failed else "")
            self.stdout.write(self.style.SUCCESS(summary) if not failed else self.style.WARNING(summary))
            if failed:
                raise CommandError(f"{failed} documents were rejected")
