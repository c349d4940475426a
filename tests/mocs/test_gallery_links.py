"""MOC-gallery links (SPEC §3.6, §3.11, §4.2 M14-M16): link one of the caller's gallery images to their MOC, list the
linked images, unlink one; the MOC detail's `images` with `source: "gallery"`; cascades both ways; the 409 of a
second link, also under parallel requests; the link tables in the admin (SPEC §7.2)."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gallery.models import GalleryAlbum, GalleryImage
from lego_api.core.cache import bump, get_versions
from mocs.models import Moc, MocFileType, MocGalleryAlbum, MocGalleryImage
from tests.factories import GalleryAlbumFactory, GalleryImageFactory, MocFactory, MocFileFactory
from tests.gallery.test_images_api import IMAGE_KEYS
from tests.helpers import assert_error
from tests.mocs.test_races import assert_one_winner, clients, race, row_locked  # noqa: F401 (clients: a fixture)

pytestmark = pytest.mark.django_db

LINKED = "Gallery image linked successfully"
UNLINKED = "Gallery image unlinked successfully"
ALREADY_LINKED = "Image is already linked to this MOC"
NOT_LINKED = "Image is not linked to this MOC"
IMAGE_NOT_FOUND = "Gallery image not found"


def links_url(moc) -> str:
    return f"/api/mocs/{moc.pk}/gallery-images"


def unlink_url(moc, image_id) -> str:
    return f"/api/mocs/{moc.pk}/gallery-images/{image_id}"


def link(api, moc, image) -> dict:
    response = api.post(links_url(moc), {"galleryImageId": str(image.pk)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]


@pytest.fixture
def image(owner) -> GalleryImage:
    return GalleryImageFactory(user_id=owner)


# --- M14 --------------------------------------------------------------------------------------------------------------


def test_owner_links_an_image(api, moc, image, django_capture_on_commit_callbacks):
    before = get_versions(moc.user_id, "mocs")["mocs"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(links_url(moc), {"galleryImageId": str(image.pk)}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == LINKED
    row = MocGalleryImage.objects.get(moc=moc)
    assert body["data"] == {
        "id": str(row.pk),
        "mocId": str(moc.pk),
        "galleryImageId": str(image.pk),
        "createdAt": body["data"]["createdAt"],
    }
    assert body["data"]["createdAt"].endswith("Z")
    assert Moc.objects.get(pk=moc.pk).updated_at > moc.updated_at
    assert get_versions(moc.user_id, "mocs")["mocs"] > before


def test_a_second_link_of_the_same_image_is_409(api, moc, image):
    link(api, moc, image)
    response = api.post(links_url(moc), {"galleryImageId": str(image.pk)}, format="json")
    assert_error(response, 409, "CONFLICT", ALREADY_LINKED)
    assert MocGalleryImage.objects.filter(moc=moc).count() == 1


def test_the_same_image_links_to_two_mocs_and_two_images_to_one(api, owner, moc, image):
    other_moc = MocFactory(user_id=owner)
    second = GalleryImageFactory(user_id=owner)
    link(api, moc, image)
    link(api, other_moc, image)
    link(api, moc, second)
    assert MocGalleryImage.objects.filter(gallery_image=image).count() == 2
    assert MocGalleryImage.objects.filter(moc=moc).count() == 2


def test_another_users_image_is_400_on_the_field(api, moc, other_user):
    foreign = GalleryImageFactory(user_id=other_user)
    response = api.post(links_url(moc), {"galleryImageId": str(foreign.pk)}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", fields={"galleryImageId": [IMAGE_NOT_FOUND]})
    assert not MocGalleryImage.objects.exists()


def test_a_missing_image_is_400_on_the_field(api, moc):
    response = api.post(links_url(moc), {"galleryImageId": str(uuid.uuid4())}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", fields={"galleryImageId": [IMAGE_NOT_FOUND]})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "This field is required."),
        ({"galleryImageId": "not-a-uuid"}, "Must be a valid UUID."),
        ({"galleryImageId": None}, "This field may not be null."),
    ],
)
def test_body_rules_are_400_with_field_details(api, moc, body, problem):
    response = api.post(links_url(moc), body, format="json")
    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", fields={"galleryImageId": [problem]})


def test_the_moc_is_checked_before_the_body(other_api, moc, image):
    response = other_api.post(links_url(moc), {}, format="json")
    assert_error(response, 403, "FORBIDDEN", "You do not own this MOC")


def test_other_user_gets_403_on_every_link_route(other_api, api, moc, image):
    link(api, moc, image)
    assert_error(other_api.get(links_url(moc)), 403, "FORBIDDEN", "You do not own this MOC")
    response = other_api.post(links_url(moc), {"galleryImageId": str(image.pk)}, format="json")
    assert_error(response, 403, "FORBIDDEN", "You do not own this MOC")
    assert_error(other_api.delete(unlink_url(moc, image.pk)), 403, "FORBIDDEN", "You do not own this MOC")
    assert MocGalleryImage.objects.filter(moc=moc).count() == 1


def test_anonymous_gets_401_on_every_link_route(anonymous, moc, image):
    assert_error(anonymous.get(links_url(moc)), 401, "UNAUTHORIZED")
    assert_error(anonymous.post(links_url(moc), {"galleryImageId": str(image.pk)}, format="json"), 401, "UNAUTHORIZED")
    assert_error(anonymous.delete(unlink_url(moc, image.pk)), 401, "UNAUTHORIZED")


def test_a_missing_moc_is_404_on_every_link_route(api, image):
    missing = uuid.uuid4()
    assert_error(api.get(f"/api/mocs/{missing}/gallery-images"), 404, "NOT_FOUND", "MOC not found")
    response = api.post(f"/api/mocs/{missing}/gallery-images", {"galleryImageId": str(image.pk)}, format="json")
    assert_error(response, 404, "NOT_FOUND", "MOC not found")
    assert_error(api.delete(f"/api/mocs/{missing}/gallery-images/{image.pk}"), 404, "NOT_FOUND", "MOC not found")


def test_a_malformed_image_id_in_the_path_is_an_unknown_route(api, moc):
    assert_error(api.delete(unlink_url(moc, "not-a-uuid")), 404, "NOT_FOUND", "Route not found")


def test_methods_the_routes_do_not_serve_are_405(api, moc, image):
    assert api.put(links_url(moc), {}, format="json").status_code == 405
    response = api.get(unlink_url(moc, image.pk))
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "DELETE"


@pytest.mark.django_db(transaction=True)
def test_parallel_links_of_one_image_give_one_201_and_409s(clients, owner):  # noqa: F811
    moc, image = MocFactory(user_id=owner), GalleryImageFactory(user_id=owner)
    responses = race(
        clients,
        lambda _, api: api.post(links_url(moc), {"galleryImageId": str(image.pk)}, format="json"),
        hold=row_locked(moc),
    )
    assert_one_winner(responses, success=201, message=ALREADY_LINKED)
    assert MocGalleryImage.objects.filter(moc=moc).count() == 1


# --- M15 --------------------------------------------------------------------------------------------------------------


def test_list_shows_the_linked_images_by_link_time_with_the_link(api, owner, moc, image):
    second = GalleryImageFactory(user_id=owner, title="Front", description=None)
    unlinked = GalleryImageFactory(user_id=owner)
    MocGalleryImage.objects.create(moc=MocFactory(user_id=owner), gallery_image=unlinked)  # another MOC's link
    first_link, second_link = link(api, moc, second), link(api, moc, image)

    response = api.get(links_url(moc))

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and "page" not in body
    assert [item["id"] for item in body["data"]] == [str(second.pk), str(image.pk)]
    item = body["data"][0]
    assert item["linkId"] == first_link["id"] and item["linkedAt"] == first_link["createdAt"]
    assert body["data"][1]["linkId"] == second_link["id"]
    assert set(item) == {*IMAGE_KEYS, "linkId", "linkedAt"}
    assert (item["title"], item["description"], item["processingStatus"]) == ("Front", None, "ready")
    assert item["imageUrl"].startswith("http") and item["thumbnailUrl"].startswith("http")


def test_list_of_a_moc_without_links_is_empty(api, moc):
    response = api.get(links_url(moc))
    assert response.status_code == 200
    assert (response.json()["data"], response.json()["total"]) == ([], 0)


def count_queries(api, url: str) -> int:
    """The queries of one GET answered from the database (the response cache emptied first; the debt check's clock
    stands still). M15 is not cached at all (SPEC §6.1)."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200 and response.get("X-Cache", "MISS") == "MISS", response.content
    return len(captured)


def test_list_query_count_does_not_grow_with_links(api, owner, moc, clock):
    MocGalleryImage.objects.create(moc=moc, gallery_image=GalleryImageFactory(user_id=owner))
    count_queries(api, links_url(moc))  # the first request of the process checks cache debts and mirrors the caller
    one = count_queries(api, links_url(moc))
    for _ in range(49):
        MocGalleryImage.objects.create(moc=moc, gallery_image=GalleryImageFactory(user_id=owner))
    assert count_queries(api, links_url(moc)) == one
    assert api.get(links_url(moc)).json()["total"] == 50


# --- M16 --------------------------------------------------------------------------------------------------------------


def test_owner_unlinks_an_image_and_the_image_stays(api, moc, image, django_capture_on_commit_callbacks):
    linked = link(api, moc, image)
    before_version = get_versions(moc.user_id, "mocs")["mocs"]
    before = Moc.objects.get(pk=moc.pk).updated_at
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(unlink_url(moc, image.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == UNLINKED
    assert body["data"] == {"id": linked["id"], "galleryImageId": str(image.pk)}
    assert not MocGalleryImage.objects.filter(moc=moc).exists()
    assert GalleryImage.objects.filter(pk=image.pk).exists()
    assert Moc.objects.get(pk=moc.pk).updated_at > before
    assert get_versions(moc.user_id, "mocs")["mocs"] > before_version


def test_unlinking_an_image_that_is_not_linked_is_404(api, owner, moc, image):
    MocGalleryImage.objects.create(moc=MocFactory(user_id=owner), gallery_image=image)  # linked elsewhere only
    assert_error(api.delete(unlink_url(moc, image.pk)), 404, "NOT_FOUND", NOT_LINKED)
    assert_error(api.delete(unlink_url(moc, uuid.uuid4())), 404, "NOT_FOUND", NOT_LINKED)
    link(api, moc, image)
    assert api.delete(unlink_url(moc, image.pk)).status_code == 200
    assert_error(api.delete(unlink_url(moc, image.pk)), 404, "NOT_FOUND", NOT_LINKED)


# --- M4: the MOC detail's images --------------------------------------------------------------------------------------


def test_detail_lists_linked_images_after_the_files_by_link_time(api, owner, moc, image):
    thumbnail = MocFileFactory(moc=moc, file_type=MocFileType.THUMBNAIL, original_filename="cover.png")
    photo = MocFileFactory(moc=moc, file_type=MocFileType.GALLERY_IMAGE, original_filename="side.jpg")
    second = GalleryImageFactory(user_id=owner, title="Front", description=None)
    first_link, second_link = link(api, moc, image), link(api, moc, second)

    images = api.get(f"/api/mocs/{moc.pk}").json()["data"]["images"]

    assert [(ref["source"], ref["id"]) for ref in images] == [
        ("file", str(thumbnail.pk)),
        ("file", str(photo.pk)),
        ("gallery", first_link["id"]),
        ("gallery", second_link["id"]),
    ]
    ref = images[2]
    assert ref["galleryImageId"] == str(image.pk)
    assert (ref["alt"], ref["caption"]) == (image.title, image.description)
    assert (images[3]["alt"], images[3]["caption"]) == ("Front", None)
    assert f"images/{owner}/{image.pk}.webp" in ref["url"]
    assert f"images/{owner}/thumbnails/{image.pk}.webp" in ref["thumbnailUrl"]


@pytest.mark.django_db(transaction=True)
def test_detail_is_fresh_after_a_link_an_unlink_and_a_gallery_write(api, owner, moc, image):
    url = f"/api/mocs/{moc.pk}"
    assert api.get(url)["X-Cache"] == "MISS"
    assert api.get(url)["X-Cache"] == "HIT"
    link(api, moc, image)
    fresh = api.get(url)
    assert fresh["X-Cache"] == "MISS" and len(fresh.json()["data"]["images"]) == 1

    GalleryImage.objects.filter(pk=image.pk).update(title="Renamed")
    bump("gallery", owner)  # what any gallery write does (SPEC §6.1): the detail depends on the gallery family
    renamed = api.get(url)
    assert renamed["X-Cache"] == "MISS" and renamed.json()["data"]["images"][0]["alt"] == "Renamed"

    assert api.delete(unlink_url(moc, image.pk)).status_code == 200
    unlinked = api.get(url)
    assert unlinked["X-Cache"] == "MISS" and unlinked.json()["data"]["images"] == []


def test_detail_query_count_does_not_grow_with_links(api, owner, moc, clock):
    url = f"/api/mocs/{moc.pk}"
    MocGalleryImage.objects.create(moc=moc, gallery_image=GalleryImageFactory(user_id=owner))
    count_queries(api, url)
    one = count_queries(api, url)
    for _ in range(49):
        MocGalleryImage.objects.create(moc=moc, gallery_image=GalleryImageFactory(user_id=owner))
    assert count_queries(api, url) == one
    assert len(api.get(url).json()["data"]["images"]) == 50


# --- Cascades (SPEC §3.11) --------------------------------------------------------------------------------------------


def test_deleting_the_moc_deletes_its_links_but_never_the_images(api, owner, moc, image):
    album = GalleryAlbumFactory(user_id=owner)
    link(api, moc, image)
    MocGalleryAlbum.objects.create(moc=moc, gallery_album=album)
    assert api.delete(f"/api/mocs/{moc.pk}").status_code == 200
    assert not MocGalleryImage.objects.exists() and not MocGalleryAlbum.objects.exists()
    assert GalleryImage.objects.filter(pk=image.pk).exists() and GalleryAlbum.objects.filter(pk=album.pk).exists()


def test_deleting_an_image_or_an_album_deletes_its_links(api, owner, moc, image):
    album = GalleryAlbumFactory(user_id=owner)
    link(api, moc, image)
    MocGalleryAlbum.objects.create(moc=moc, gallery_album=album)
    image.delete()
    album.delete()
    assert not MocGalleryImage.objects.exists() and not MocGalleryAlbum.objects.exists()
    assert Moc.objects.filter(pk=moc.pk).exists()


# --- The link tables in the admin (SPEC §7.2) -------------------------------------------------------------------------


def test_admin_lists_and_shows_both_link_tables(staff, owner, moc, image):
    album = GalleryAlbumFactory(user_id=owner, title="Truck album")
    image_link = MocGalleryImage.objects.create(moc=moc, gallery_image=image)
    album_link = MocGalleryAlbum.objects.create(moc=moc, gallery_album=album)
    for url, expected in [
        ("/admin/mocs/mocgalleryimage/", image.title),
        (f"/admin/mocs/mocgalleryimage/{image_link.pk}/change/", image.title),
        ("/admin/mocs/mocgalleryalbum/", "Truck album"),
        (f"/admin/mocs/mocgalleryalbum/{album_link.pk}/change/", "Truck album"),
        ("/admin/mocs/mocgalleryimage/add/", "Gallery image"),
        ("/admin/mocs/mocgalleryalbum/add/", "Gallery album"),
    ]:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert expected in response.content.decode(), url
        assert moc.title in response.content.decode() or url.endswith("/add/"), url


def test_admin_adds_and_deletes_an_image_link_through_the_services(
    staff, moc, image, django_capture_on_commit_callbacks
):
    version = get_versions(moc.user_id, "mocs")["mocs"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/admin/mocs/mocgalleryimage/add/", {"moc": str(moc.pk), "gallery_image": str(image.pk)})
    assert response.status_code == 302, response.content.decode()[:2000]
    link = MocGalleryImage.objects.get(moc=moc, gallery_image=image)
    assert Moc.objects.get(pk=moc.pk).updated_at > moc.updated_at
    assert get_versions(moc.user_id, "mocs")["mocs"] > version

    version = get_versions(moc.user_id, "mocs")["mocs"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/admin/mocs/mocgalleryimage/{link.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not MocGalleryImage.objects.exists() and GalleryImage.objects.filter(pk=image.pk).exists()
    assert get_versions(moc.user_id, "mocs")["mocs"] > version


def test_admin_refuses_a_link_to_another_users_image_or_album_and_a_second_link(staff, owner, other_user, moc, image):
    foreign_image = GalleryImageFactory(user_id=other_user)
    foreign_album = GalleryAlbumFactory(user_id=other_user)
    refused = staff.post(
        "/admin/mocs/mocgalleryimage/add/", {"moc": str(moc.pk), "gallery_image": str(foreign_image.pk)}
    )
    assert refused.status_code == 200 and IMAGE_NOT_FOUND in refused.content.decode()
    refused = staff.post(
        "/admin/mocs/mocgalleryalbum/add/", {"moc": str(moc.pk), "gallery_album": str(foreign_album.pk)}
    )
    assert refused.status_code == 200 and "Gallery album not found" in refused.content.decode()
    assert not MocGalleryImage.objects.exists() and not MocGalleryAlbum.objects.exists()

    MocGalleryImage.objects.create(moc=moc, gallery_image=image)
    again = staff.post("/admin/mocs/mocgalleryimage/add/", {"moc": str(moc.pk), "gallery_image": str(image.pk)})
    assert again.status_code == 200 and "already exists" in again.content.decode()
    assert MocGalleryImage.objects.count() == 1


def test_admin_adds_and_bulk_deletes_album_links(staff, owner, moc):
    albums = [GalleryAlbumFactory(user_id=owner), GalleryAlbumFactory(user_id=owner)]
    for album in albums:
        response = staff.post("/admin/mocs/mocgalleryalbum/add/", {"moc": str(moc.pk), "gallery_album": str(album.pk)})
        assert response.status_code == 302, response.content.decode()[:2000]
    links = list(MocGalleryAlbum.objects.filter(moc=moc).values_list("pk", flat=True))
    assert len(links) == 2
    response = staff.post(
        "/admin/mocs/mocgalleryalbum/",
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in links], "post": "yes"},
    )
    assert response.status_code == 302
    assert not MocGalleryAlbum.objects.exists()
    assert GalleryAlbum.objects.filter(pk__in=[album.pk for album in albums]).count() == 2
