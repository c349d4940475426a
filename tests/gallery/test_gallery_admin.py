"""The gallery admin (SPEC §7.2): the image, album and flag admins and the "Flagged images" moderation view, as staff
use them (Django's test client, a superuser). Saves, deletes and the three moderation actions go through the gallery
services: objects deleted after commit, the owners' gallery versions bumped, the images re-indexed. Thumbnails in the
lists come from the stored thumbnail URL, escaped."""

from __future__ import annotations

import html

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gallery.models import GalleryAlbum, GalleryFlag, GalleryImage, ProcessingStatus
from lego_api.core import search as core_search
from lego_api.core import storage
from lego_api.core.cache import get_versions
from tests.factories import GalleryAlbumFactory, GalleryFlagFactory, GalleryImageFactory
from tests.helpers import stored_keys

pytestmark = pytest.mark.django_db

IMAGES = "/admin/gallery/galleryimage/"
FLAGGED = "/admin/gallery/flaggedimage/"
ALBUMS = "/admin/gallery/galleryalbum/"
FLAGS = "/admin/gallery/galleryflag/"


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    """Run what a block queues for after its commit (bumps, indexing, object deletes) as production does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def gallery_version(user_id: str) -> int:
    return get_versions(user_id, "gallery")["gallery"]


def indexed(image: GalleryImage) -> dict | None:
    """The image's document in the gallery index, or None."""
    found = core_search.get_client().get(index=core_search.index_name("gallery"), id=str(image.pk), ignore=[404])
    return found.get("_source") if found.get("found") else None


def with_objects(image: GalleryImage) -> GalleryImage:
    """Write the image's WebP and thumbnail objects (as processing would), so a delete has something to delete."""
    for key in (image.image_url, image.thumbnail_url):
        storage.save_bytes(key, b"RIFF0000WEBP", content_type="image/webp")
    return image


def user_objects(user_id: str) -> list[str]:
    return stored_keys(f"images/{storage.user_key_segment(user_id)}/")


def select(staff: Client, url: str, action: str, images) -> object:
    return staff.post(url, {"action": action, "_selected_action": [str(i.pk) for i in images]}, follow=True)


# --- Pages ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [IMAGES, FLAGGED, ALBUMS, FLAGS])
def test_anonymous_is_sent_to_the_login_page(url):
    response = Client().get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_every_page_opens(staff, owner, other_user):
    album = GalleryAlbumFactory(user_id=owner)
    image = GalleryImageFactory(user_id=owner, album=album)
    flag = GalleryFlagFactory(image=image, user_id=other_user)
    for url in [
        IMAGES,
        f"{IMAGES}{image.pk}/change/",
        f"{IMAGES}{image.pk}/delete/",
        FLAGGED,
        f"{FLAGGED}{image.pk}/change/",
        ALBUMS,
        f"{ALBUMS}{album.pk}/change/",
        FLAGS,
        f"{FLAGS}{flag.pk}/change/",
    ]:
        assert staff.get(url).status_code == 200, url
    # Images and albums arrive through the API; flags are users' reports.
    for url in [f"{IMAGES}add/", f"{FLAGGED}add/", f"{ALBUMS}add/", f"{FLAGS}add/"]:
        assert staff.get(url).status_code == 403, url


def test_image_list_shows_the_stored_thumbnail_escaped(staff, owner):
    image = GalleryImageFactory(user_id=owner, title='Gate "><script>alert(1)</script>')
    pending = GalleryImageFactory(user_id=owner, processing_status=ProcessingStatus.PENDING, title="Still waiting")

    body = staff.get(IMAGES).content.decode()

    url = storage.render_url(image.thumbnail_url)
    assert f'src="{html.escape(url)}"' in body
    assert f"images/{owner}/thumbnails/{image.pk}.webp" in body
    assert "<script>alert(1)</script>" not in body
    assert 'alt="Gate &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in body
    assert f"thumbnails/{pending.pk}.webp" not in body, "no thumbnail before processing made one"


def test_image_list_searches_and_filters(staff, owner):
    GalleryImageFactory(user_id=owner, title="Castle Gate")
    GalleryImageFactory(user_id=owner, title="Harbour Crane", flagged=True)
    GalleryImageFactory(user_id=owner, title="Broken Upload", processing_status=ProcessingStatus.FAILED)

    def titles(**query) -> set[str]:
        body = staff.get(IMAGES, query).content.decode()
        return {title for title in ("Castle Gate", "Harbour Crane", "Broken Upload") if title in body}

    assert titles(q="crane") == {"Harbour Crane"}
    assert titles(q=owner) == {"Castle Gate", "Harbour Crane", "Broken Upload"}
    assert titles(flagged__exact="1") == {"Harbour Crane"}
    assert titles(processing_status__exact="failed") == {"Broken Upload"}


def test_image_change_page_hides_internal_fields_and_shows_flags(staff, owner, other_user):
    image = GalleryImageFactory(user_id=owner)
    GalleryFlagFactory(image=image, user_id=other_user, reason="Not a LEGO build")
    body = staff.get(f"{IMAGES}{image.pk}/change/").content.decode()
    assert 'name="search_vector"' not in body and 'name="staging_key"' not in body
    assert 'name="user_id"' not in body and 'name="processing_status"' not in body and 'name="image_url"' not in body
    assert 'name="title"' in body and 'name="flagged"' in body
    assert "Not a LEGO build" in body


# --- Image saves and deletes ------------------------------------------------------------------------------------------


def image_form(image: GalleryImage, **changes) -> dict:
    form = {
        "title": image.title,
        "description": image.description or "",
        "tags": "[" + ", ".join(f'"{tag}"' for tag in image.tags) + "]",
        "album": str(image.album_id or ""),
        "flagged": "on" if image.flagged else "",
        "flags-TOTAL_FORMS": "0",
        "flags-INITIAL_FORMS": "0",
        "flags-MIN_NUM_FORMS": "0",
        "flags-MAX_NUM_FORMS": "1000",
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value != "" or name != "flagged"}


def test_image_save_goes_through_the_service(staff, owner, after_commit):
    image = GalleryImageFactory(user_id=owner, title="Castle Gate")
    album = GalleryAlbumFactory(user_id=owner)
    version = gallery_version(owner)

    form = image_form(image, title="  Castle Keep  ", tags='["Keep", "castle", "keep"]', album=str(album.pk))
    with after_commit():
        response = staff.post(f"{IMAGES}{image.pk}/change/", {**form, "flagged": "on"})

    assert response.status_code == 302, response.content.decode()[:3000]
    image.refresh_from_db()
    assert (image.title, image.tags, image.album_id, image.flagged) == (
        "Castle Keep",
        ["keep", "castle"],
        album.pk,
        True,
    )
    assert gallery_version(owner) > version
    document = indexed(image)
    assert document["title"] == "Castle Keep" and document["flagged"] is True
    assert GalleryImage.objects.filter(pk=image.pk, search_vector__isnull=False).exists()


def test_image_save_refuses_what_the_api_refuses(staff, owner, other_user):
    image = GalleryImageFactory(user_id=owner, title="Castle Gate")
    foreign_album = GalleryAlbumFactory(user_id=other_user)

    too_long = staff.post(f"{IMAGES}{image.pk}/change/", image_form(image, title="x" * 201))
    assert too_long.status_code == 200
    assert "at most 200 characters" in too_long.content.decode()
    foreign = staff.post(f"{IMAGES}{image.pk}/change/", image_form(image, album=str(foreign_album.pk)))
    assert foreign.status_code == 200 and "Album not found" in foreign.content.decode()
    image.refresh_from_db()
    assert (image.title, image.album_id) == ("Castle Gate", None)


def test_image_delete_and_bulk_delete_go_through_the_service(staff, owner, other_user, after_commit):
    image = with_objects(GalleryImageFactory(user_id=owner))
    GalleryFlagFactory(image=image, user_id=other_user)
    others = [with_objects(GalleryImageFactory(user_id=owner)) for _ in range(2)]
    assert len(user_objects(owner)) == 6
    version = gallery_version(owner)

    with after_commit():
        response = staff.post(f"{IMAGES}{image.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not GalleryImage.objects.filter(pk=image.pk).exists() and not GalleryFlag.objects.exists()
    assert len(user_objects(owner)) == 4
    assert gallery_version(owner) > version

    with after_commit():
        staff.post(
            IMAGES, {"action": "delete_selected", "_selected_action": [str(i.pk) for i in others], "post": "yes"}
        )
    assert not GalleryImage.objects.filter(user_id=owner).exists()
    assert user_objects(owner) == []
    assert indexed(others[0]) is None


# --- The moderation view ----------------------------------------------------------------------------------------------


def test_moderation_view_lists_flagged_images_with_count_and_latest_reason(staff, owner, other_user):
    reported = GalleryImageFactory(user_id=owner, title="Reported Twice")
    GalleryFlagFactory(image=reported, user_id=other_user, reason="Older reason")
    GalleryFlagFactory(image=reported, user_id="third-user", reason="Newest reason")
    once = GalleryImageFactory(user_id=other_user, title="Reported Once")
    GalleryFlagFactory(image=once, user_id=owner, reason="Spam")
    GalleryImageFactory(user_id=owner, title="Never Reported", flagged=True)

    response = staff.get(FLAGGED)

    body = response.content.decode()
    assert "Reported Twice" in body and "Reported Once" in body and "Never Reported" not in body
    rows = {row.title: row for row in response.context["cl"].result_list}
    assert (rows["Reported Twice"].flag_count, rows["Reported Twice"].latest_reason) == (2, "Newest reason")
    assert (rows["Reported Once"].flag_count, rows["Reported Once"].latest_reason) == (1, "Spam")
    assert "Newest reason" in body and "Older reason" not in body
    assert f"images/{owner}/thumbnails/{reported.pk}.webp" in body
    actions = [choice[0] for choice in response.context["action_form"].fields["action"].choices]
    assert actions == ["", "mark_as_flagged", "dismiss_flags", "delete_images"]


def test_mark_as_flagged_sets_flagged_keeps_the_flags_bumps_and_reindexes(staff, owner, other_user, after_commit):
    mine = GalleryImageFactory(user_id=owner)
    theirs = GalleryImageFactory(user_id=other_user)
    GalleryFlagFactory(image=mine, user_id=other_user)
    GalleryFlagFactory(image=theirs, user_id=owner)
    versions = (gallery_version(owner), gallery_version(other_user))

    with after_commit():
        response = select(staff, FLAGGED, "mark_as_flagged", [mine, theirs])

    assert "2 image(s) marked as flagged." in response.content.decode()
    assert set(GalleryImage.objects.filter(flagged=True).values_list("pk", flat=True)) == {mine.pk, theirs.pk}
    assert GalleryFlag.objects.count() == 2
    assert gallery_version(owner) > versions[0] and gallery_version(other_user) > versions[1]
    assert indexed(mine)["flagged"] is True and indexed(theirs)["flagged"] is True


def test_dismiss_flags_deletes_the_flags_and_clears_flagged(staff, owner, other_user, after_commit):
    image = GalleryImageFactory(user_id=owner, flagged=True, title="Dismiss Me")
    kept = GalleryImageFactory(user_id=owner, title="Still Reported")
    GalleryFlagFactory(image=image, user_id=other_user)
    GalleryFlagFactory(image=image, user_id="third-user")
    GalleryFlagFactory(image=kept, user_id=other_user)
    version = gallery_version(owner)

    with after_commit():
        response = select(staff, FLAGGED, "dismiss_flags", [image])

    assert "1 image(s) cleared of flags." in response.content.decode()
    image.refresh_from_db()
    assert image.flagged is False
    assert list(GalleryFlag.objects.values_list("image_id", flat=True)) == [kept.pk]
    assert gallery_version(owner) > version
    assert indexed(image)["flagged"] is False
    listed = staff.get(FLAGGED).content.decode()
    assert "Dismiss Me" not in listed and "Still Reported" in listed


def test_delete_images_is_the_full_delete_with_the_files(staff, owner, other_user, after_commit):
    image = with_objects(GalleryImageFactory(user_id=owner))
    GalleryFlagFactory(image=image, user_id=other_user)
    version = gallery_version(owner)

    with after_commit():
        response = select(staff, FLAGGED, "delete_images", [image])

    assert "1 image(s) deleted." in response.content.decode()
    assert not GalleryImage.objects.filter(pk=image.pk).exists() and not GalleryFlag.objects.exists()
    assert user_objects(owner) == []
    assert gallery_version(owner) > version
    assert indexed(image) is None


def test_moderation_view_query_count_does_not_grow_with_images_and_flags(staff, owner, other_user):
    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(FLAGGED).status_code == 200
        return len(captured)

    def reported_image() -> None:
        image = GalleryImageFactory(user_id=owner)
        GalleryFlagFactory(image=image, user_id=other_user)
        GalleryFlagFactory(image=image, user_id="third-user")

    reported_image()
    one = queries()
    for _ in range(49):
        reported_image()
    assert queries() == one


# --- Albums and flags -------------------------------------------------------------------------------------------------


def test_album_list_shows_the_image_count(staff, owner):
    album = GalleryAlbumFactory(user_id=owner, title="Harbour")
    GalleryImageFactory.create_batch(3, user_id=owner, album=album)
    response = staff.get(ALBUMS)
    [row] = [row for row in response.context["cl"].result_list if row.pk == album.pk]
    assert row.image_count == 3
    assert staff.get(ALBUMS, {"q": "harbour"}).context["cl"].result_count == 1


def album_form(album: GalleryAlbum, **changes) -> dict:
    form = {
        "title": album.title,
        "description": album.description or "",
        "cover_image": str(album.cover_image_id or ""),
    }
    return {**form, **changes}


def test_album_save_goes_through_the_service(staff, owner, after_commit):
    album = GalleryAlbumFactory(user_id=owner, title="Harbour")
    cover = GalleryImageFactory(user_id=owner)
    version = gallery_version(owner)
    with after_commit():
        response = staff.post(
            f"{ALBUMS}{album.pk}/change/", album_form(album, title=" Port ", cover_image=str(cover.pk))
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    album.refresh_from_db()
    assert (album.title, album.cover_image_id) == ("Port", cover.pk)
    assert gallery_version(owner) > version


def test_album_save_refuses_another_users_cover(staff, owner, other_user):
    album = GalleryAlbumFactory(user_id=owner)
    foreign = GalleryImageFactory(user_id=other_user)
    response = staff.post(f"{ALBUMS}{album.pk}/change/", album_form(album, cover_image=str(foreign.pk)))
    assert response.status_code == 200 and "Cover image not found" in response.content.decode()
    album.refresh_from_db()
    assert album.cover_image_id is None


def test_album_delete_keeps_its_images_and_reindexes_them(staff, owner, after_commit):
    album = GalleryAlbumFactory(user_id=owner)
    image = GalleryImageFactory(user_id=owner, album=album)
    others = GalleryAlbumFactory.create_batch(2, user_id=owner)
    version = gallery_version(owner)
    with after_commit():
        response = staff.post(f"{ALBUMS}{album.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.album_id is None and not GalleryAlbum.objects.filter(pk=album.pk).exists()
    assert gallery_version(owner) > version
    assert indexed(image)["albumId"] is None

    staff.post(ALBUMS, {"action": "delete_selected", "_selected_action": [str(a.pk) for a in others], "post": "yes"})
    assert not GalleryAlbum.objects.filter(user_id=owner).exists()


def test_flag_list_searches_reasons_and_users(staff, owner, other_user):
    image = GalleryImageFactory(user_id=owner, title="Castle Gate")
    GalleryFlagFactory(image=image, user_id=other_user, reason="Copyrighted photo")
    GalleryFlagFactory(image=image, user_id="third-user", reason="Spam")
    by_reason = staff.get(FLAGS, {"q": "copyrighted"})
    assert by_reason.context["cl"].result_count == 1
    assert "Castle Gate" in by_reason.content.decode()
    assert staff.get(FLAGS, {"q": "third-user"}).context["cl"].result_count == 1
