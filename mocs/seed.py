"""The MOCs app's demo data for `manage.py seed_demo` (registered in MocsConfig.ready()): MOCs and sets that pass
every CHECK of SPEC §3.4, each with a ready parts list and its parts (§3.7, §3.8; the totals computed as the parser
would), and for the first few of each user an instruction PDF, a thumbnail and the parts list's CSV file in storage
(§3.5, keys of §5.3)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from lego_api.core import seeding
from lego_api.core.search.vector import document_vector
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType, MocPart, MocPartsList, PartsListStatus
from mocs.search import KIND
from mocs.storage_keys import moc_file_key

THEMES = {
    "City": ["Vehicles", "Buildings", "Harbour"],
    "Space": ["Classic Space", "Star Fighters"],
    "Castle": ["Knights", "Fortress"],
    "Technic": ["Supercars", "Machinery"],
    "Creator": ["Modular", "Animals"],
    "Trains": ["Freight", "Stations"],
    "Pirates": ["Ships", "Islands"],
}
NOUNS = [
    "Coffee Truck", "Lighthouse", "Space Shuttle", "Harbour Crane", "Watchtower", "Steam Locomotive", "Bookshop",
    "Galleon", "Fire Station", "Mech Walker", "Tree House", "Diner", "Moon Base", "Drawbridge", "Cargo Ship",
    "Race Car", "Windmill", "Observatory", "Bakery", "Ferris Wheel",
]  # fmt: skip
ADJECTIVES = ["Tiny", "Classic", "Modular", "Rustic", "Retro", "Winter", "Night", "Grand", "Compact", "Neon"]
TAGS = ["city", "space", "castle", "vehicle", "modular", "food", "robot", "ship", "winter", "train", "microscale"]
AUTHORS = ["Jane Builder", "Ole Kirk", "Brick Baron", "Mia Plates", "Studio Stud", "Tom Tile"]
PARTS = [
    ("3001", "Brick 2 x 4", "Bricks"), ("3003", "Brick 2 x 2", "Bricks"), ("3004", "Brick 1 x 2", "Bricks"),
    ("3020", "Plate 2 x 4", "Plates"), ("3023", "Plate 1 x 2", "Plates"), ("3710", "Plate 1 x 4", "Plates"),
    ("3069b", "Tile 1 x 2", "Tiles"), ("2780", "Technic Pin", "Technic"), ("4073", "Plate Round 1 x 1", "Plates"),
    ("54200", "Slope 30 1 x 1 x 2/3", "Slopes"), ("3666", "Plate 1 x 6", "Plates"), ("3062b", "Brick Round 1 x 1", "Bricks"),
]  # fmt: skip
COLOURS = ["Red", "Blue", "Yellow", "Black", "White", "Light Bluish Gray", "Dark Bluish Gray", "Reddish Brown", "Tan"]


def _moc(ctx: seeding.SeedContext, user_id: str, index: int) -> Moc:
    rng = ctx.rng
    theme = rng.choice(sorted(THEMES))
    title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {index + 1}"  # unique per user (SPEC §3.4)
    created = ctx.moment(within_days=720)
    updated = min(ctx.anchor, created + dt.timedelta(seconds=rng.randrange(30 * 86400)))
    common = {
        "id": ctx.uuid(),
        "user_id": user_id,
        "title": title,
        "description": f"A {title.lower()} in the {theme} theme, built for display and play. "
        + "Sturdy, with an interior and room for minifigures. " * rng.randint(0, 3),
        "theme": theme,
        "tags": rng.sample(TAGS, rng.randint(0, 4)),
        "created_at": created,
        "updated_at": updated,
    }
    if rng.random() < 0.3:
        return Moc(
            type="set",
            brand="LEGO",
            set_number=str(rng.randint(10000, 79999)),
            release_year=rng.randint(1990, ctx.anchor.year),
            retired=rng.random() < 0.4,
            **common,
        )
    return Moc(
        type="moc",
        author=rng.choice(AUTHORS),
        parts_count=rng.randint(50, 5000),
        subtheme=rng.choice(THEMES[theme]) if rng.random() < 0.6 else None,
        uploaded_date=created,
        set_number=f"MOC-{rng.randint(1000, 299999)}",
        **common,
    )


def _parts(ctx: seeding.SeedContext, parts_list: MocPartsList, rows: int) -> list[MocPart]:
    """`rows` parts (line 1 is the CSV header), mostly regular, a few spares; the list's counts set as the parser
    sets them (SPEC §5.6: spares out of the totals, unique = distinct (part, colour) among non-spares)."""
    rng = ctx.rng
    parts = []
    for line in range(2, rows + 2):
        part_id, name, category = rng.choice(PARTS)
        parts.append(
            MocPart(
                id=ctx.uuid(),
                parts_list=parts_list,
                part_id=part_id,
                part_name=name,
                color=rng.choice(COLOURS),
                quantity=rng.randint(1, 24),
                category=category,
                is_spare=rng.random() < 0.05,
                line_number=line,
            )
        )
    regular = [part for part in parts if not part.is_spare]
    parts_list.row_count = len(parts)
    parts_list.total_parts_count = sum(part.quantity for part in regular)
    parts_list.unique_parts_count = len({(part.part_id, part.color) for part in regular})
    return parts


def _csv(parts: list[MocPart]) -> bytes:
    lines = ["Part ID,Part Name,Quantity,Color,Category,Is Spare"]
    lines += [f"{p.part_id},{p.part_name},{p.quantity},{p.color},{p.category},{str(p.is_spare).lower()}" for p in parts]
    return ("\n".join(lines) + "\n").encode()


def seed_mocs(ctx: seeding.SeedContext) -> seeding.SeedResult:
    rng = ctx.rng
    mocs: list[Moc] = []
    files: list[MocFile] = []
    lists: list[MocPartsList] = []
    parts: list[MocPart] = []
    objects: list[tuple[str, bytes, str, str | None]] = []
    for user_id in ctx.user_ids:
        for index in range(ctx.sizes["mocs"]):
            moc = _moc(ctx, user_id, index)
            mocs.append(moc)
            parts_list = MocPartsList(
                id=ctx.uuid(),
                moc=moc,
                title=f"Parts List - {moc.title}",
                status=PartsListStatus.READY,
                format="manual",
                built=rng.random() < 0.3,
                purchased=rng.random() < 0.5,
                inventory_percentage=rng.randint(0, 100),
                created_at=moc.created_at,
                updated_at=moc.updated_at,
            )
            rows = max(1, int(rng.gauss(ctx.sizes["parts"], ctx.sizes["parts"] / 3)))
            list_parts = _parts(ctx, parts_list, rows)
            parts_list.acquired_parts_count = rng.randint(0, parts_list.total_parts_count)
            moc.total_piece_count = parts_list.total_parts_count
            if index < ctx.sizes["files"]:
                segment = (user_id, moc.id)
                pdf = seeding.demo_pdf(moc.title)
                thumbnail = seeding.demo_image(640, 480, index, "JPEG")
                csv = _csv(list_parts)
                made = []
                for file_type, ext, mime, name, data in (
                    (MocFileType.INSTRUCTION, "pdf", "application/pdf", "instructions.pdf", pdf),
                    (MocFileType.THUMBNAIL, "jpg", "image/jpeg", "thumbnail.jpg", thumbnail),
                    (MocFileType.PARTS_LIST, "csv", "text/csv", "parts.csv", csv),
                ):
                    file_id = ctx.uuid()
                    key = moc_file_key(*segment, file_id, ext)
                    made.append(
                        MocFile(
                            id=file_id,
                            moc=moc,
                            file_type=file_type,
                            file_url=key,
                            original_filename=name,
                            mime_type=mime,
                            file_size=len(data),
                            status=MocFileStatus.READY,
                            created_at=moc.created_at,
                        )
                    )
                    objects.append((key, data, mime, name))
                files.extend(made)
                moc.thumbnail_url = made[1].file_url
                parts_list.file = made[2]
                parts_list.format = "standard-csv"
                parts_list.title = "Parts List - parts.csv"
            lists.append(parts_list)
            parts.extend(list_parts)
    Moc.objects.bulk_create(mocs, batch_size=2000)
    MocFile.objects.bulk_create(files, batch_size=2000)
    MocPartsList.objects.bulk_create(lists, batch_size=2000)
    MocPart.objects.bulk_create(parts, batch_size=5000)
    Moc.objects.filter(user_id__in=ctx.user_ids).update(search_vector=document_vector())
    written = seeding.write_objects(objects)
    return seeding.SeedResult(
        counts={"MOCs": len(mocs), "MOC files": len(files), "parts lists": len(lists), "parts": len(parts)},
        index={KIND: [str(moc.id) for moc in mocs]},
        objects=written,
    )


def clear_mocs(user_ids: Sequence[str]) -> None:
    from lego_api.core.storage import delete_keys

    keys = list(MocFile.objects.filter(moc__user_id__in=user_ids).values_list("file_url", flat=True))
    Moc.objects.filter(user_id__in=user_ids).delete()
    delete_keys(keys)


SEEDER = seeding.Seeder(
    name="mocs",
    seed=seed_mocs,
    clear=clear_mocs,
    present=functools.partial(seeding.owners_present, Moc),
    order=20,
    families=("mocs",),
    indexed=functools.partial(seeding.owned_ids, KIND, Moc),
)
