"""`manage.py seed_demo` (issue 12): the rows it makes are valid and complete, their objects exist in storage, the
search index has them, the API serves them, and the same seed gives the same data."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gallery.models import GalleryAlbum, GalleryImage
from lego_api.core.storage import head
from mocs.models import Moc, MocFile, MocPart, MocPartsList
from profiles.models import Profile
from wishlist.models import WishlistItem

pytestmark = pytest.mark.django_db

SIZES = {"users": 2, "mocs": 6, "images": 3, "albums": 1, "wishlist": 4, "parts": 12, "files": 1}


def seed(prefix: str, **options) -> str:
    out = StringIO()
    call_command("seed_demo", prefix=prefix, stdout=out, **{**SIZES, **options})
    return out.getvalue()


@pytest.fixture
def prefix() -> str:
    return f"seed{uuid.uuid4().hex[:10]}-"


@pytest.fixture
def seeded(prefix):
    seed(prefix, seed=7)
    return [f"{prefix}0001", f"{prefix}0002"]


def test_every_user_gets_every_apps_rows(seeded):
    for user_id in seeded:
        assert Moc.objects.filter(user_id=user_id).count() == SIZES["mocs"]
        assert MocPartsList.objects.filter(moc__user_id=user_id, status="ready").count() == SIZES["mocs"]
        assert MocFile.objects.filter(moc__user_id=user_id).count() == 3 * SIZES["files"]  # PDF, thumbnail, CSV
        assert GalleryImage.objects.filter(user_id=user_id, processing_status="ready").count() == SIZES["images"]
        assert GalleryAlbum.objects.filter(user_id=user_id).count() == SIZES["albums"]
        assert WishlistItem.objects.filter(user_id=user_id).count() == SIZES["wishlist"]
        assert Profile.objects.get(user_id=user_id).email == f"{user_id}@example.com"


def test_parts_list_totals_are_what_the_parser_would_store(seeded):
    for parts_list in MocPartsList.objects.filter(moc__user_id__in=seeded).select_related("moc"):
        parts = list(MocPart.objects.filter(parts_list=parts_list))
        regular = [p for p in parts if not p.is_spare]
        assert parts_list.row_count == len(parts)
        assert parts_list.total_parts_count == sum(p.quantity for p in regular)
        assert parts_list.unique_parts_count == len({(p.part_id, p.color) for p in regular})
        assert parts_list.moc.total_piece_count == parts_list.total_parts_count
        assert 0 <= parts_list.acquired_parts_count <= parts_list.total_parts_count


def test_every_object_a_row_points_at_exists(seeded):
    keys = list(MocFile.objects.filter(moc__user_id__in=seeded).values_list("file_url", flat=True))
    for image in GalleryImage.objects.filter(user_id__in=seeded):
        keys += [image.image_url, image.thumbnail_url]
    keys += [
        k for k in WishlistItem.objects.filter(user_id__in=seeded).values_list("image_url", flat=True) if k and "/" in k
    ]
    keys += [k for k in Profile.objects.filter(user_id__in=seeded).values_list("avatar_url", flat=True) if k]
    stored = [key for key in keys if not key.startswith("http")]
    assert len(stored) >= 2 * (3 + 2 * SIZES["images"] + 2)
    assert [key for key in stored if head(key) is None] == []


def test_the_api_serves_the_seeded_data(seeded, auth_client):
    user_id = seeded[0]
    api = auth_client(user_id)

    listing = api.get("/api/mocs?limit=100")
    assert listing.status_code == 200
    assert listing.json()["total"] == SIZES["mocs"]

    with_files = Moc.objects.filter(user_id=user_id).exclude(thumbnail_url=None).get()
    detail = api.get(f"/api/mocs/{with_files.id}").json()["data"]
    assert {f["fileType"] for f in detail["files"]} == {"instruction", "thumbnail", "parts-list"}
    assert detail["images"][0]["source"] == "file"
    assert detail["partsLists"][0]["format"] == "standard-csv"

    word = with_files.title.split()[1]
    search = api.get(f"/api/mocs?search={word}")
    assert search.status_code == 200
    assert search["X-Search-Backend"] == "opensearch"
    assert str(with_files.id) in [moc["id"] for moc in search.json()["data"]]

    assert api.get("/api/images").json()["total"] == SIZES["images"]
    wishlist = api.get("/api/wishlist").json()
    assert [item["sortOrder"] for item in wishlist["data"]] == list(range(SIZES["wishlist"]))
    profile = api.get("/api/users/me").json()["data"]
    assert profile["stats"] == {
        "mocs": SIZES["mocs"],
        "images": SIZES["images"],
        "albums": SIZES["albums"],
        "wishlistItems": SIZES["wishlist"],
    }
    assert profile["avatarUrl"]  # the first user of every three has one


def test_the_same_seed_gives_the_same_rows(prefix):
    seed(prefix, seed=11)
    first = sorted(Moc.objects.filter(user_id__startswith=prefix).values_list("id", "title", "tags"))
    seed(prefix, seed=11)  # seeding again replaces the users' rows
    again = sorted(Moc.objects.filter(user_id__startswith=prefix).values_list("id", "title", "tags"))
    assert first == again
    seed(prefix, seed=12)
    other = sorted(Moc.objects.filter(user_id__startswith=prefix).values_list("id", "title", "tags"))
    assert other != first
    assert len(other) == len(first)


def test_if_missing_leaves_seeded_users_alone(seeded, prefix):
    ids = set(Moc.objects.filter(user_id__in=seeded).values_list("id", flat=True))
    output = seed(prefix, seed=99, if_missing=True)
    assert "nothing to do" in output
    assert f"indexed {SIZES['images'] * 2} gallery, {SIZES['mocs'] * 2} mocs" in output  # the index filled again
    assert set(Moc.objects.filter(user_id__in=seeded).values_list("id", flat=True)) == ids


@pytest.mark.parametrize(
    ("option", "value"), [("users", 0), ("mocs", -1), ("parts", 0), ("files", 7), ("prefix", "bad prefix")]
)
def test_out_of_range_options_are_refused(option, value):
    with pytest.raises(CommandError):
        call_command("seed_demo", **{**SIZES, "prefix": "refused-", option: value}, stdout=StringIO())
    assert not Moc.objects.filter(user_id__startswith="refused-").exists()
