"""G1, G2, G4-G6 (SPEC §4.3): upload, list with every filter, detail, update and delete of gallery images, per caller
(owner, other user, anonymous), with the validation errors, the cache and the storage effects, against real
services (SeaweedFS, PostgreSQL, Redis, the search server)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import override_settings

from gallery.models import GalleryAlbum, GalleryFlag, GalleryImage
from lego_api.core import storage
from tests.factories import GalleryAlbumFactory, GalleryFlagFactory, GalleryImageFactory
from tests.gallery.conftest import image_part, indexed, photo_bytes
from tests.helpers import assert_error, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
IMAGE_KEYS = {
    "id",
    "userId",
    "title",
    "description",
    "tags",
    "imageUrl",
    "thumbnailUrl",
    "albumId",
    "flagged",
    "processingStatus",
    "processingError",
    "createdAt",
    "lastUpdatedAt",
}


def field_errors(response) -> dict[str, list[str]]:
    return assert_error(response, 400, "VALIDATION_ERROR", "Validation failed")["details"]["fields"]


def gallery_keys(user_id: str) -> list[str]:
    segment = storage.user_key_segment(user_id)
    return stored_keys(f"images/{segment}/") + stored_keys(f"tmp/{segment}/")


# --- Authentication and unknown routes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/images"),
        ("post", "/api/images"),
        ("get", "/api/images/search"),
        ("get", f"/api/images/{uuid.uuid4()}"),
        ("patch", f"/api/images/{uuid.uuid4()}"),
        ("put", f"/api/images/{uuid.uuid4()}"),
        ("delete", f"/api/images/{uuid.uuid4()}"),
        ("post", f"/api/images/{uuid.uuid4()}/flag"),
        ("post", "/api/flag"),
    ],
)
def test_anonymous_gets_401(anonymous, method, path):
    response = getattr(anonymous, method)(path)

    assert_error(response, 401, "UNAUTHORIZED", "Authentication required")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/api/images/not-a-uuid", "/api/images/123/flag"])
def test_malformed_image_id_is_an_unknown_route(api, path):
    assert_error(api.get(path), 404, "NOT_FOUND", "Route not found")


def test_routes_take_an_optional_trailing_slash(api, image):
    assert api.get("/api/images/").status_code == 200
    assert api.get(f"/api/images/{image.pk}/").status_code == 200
    assert api.get("/api/images/search/", {"search": "castle"}).status_code == 200


# --- G1 -----------------------------------------------------------------------------------------------------------


def test_owner_uploads_an_image_that_is_ready_with_both_objects_stored(api, owner, upload_image):
    response = upload_image(api, title="  Castle gate  ", description="The gatehouse", tags='["Castle", "gate"]')

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "Image uploaded successfully"
    data = body["data"]
    assert set(data) == IMAGE_KEYS
    assert data["userId"] == owner
    assert (data["title"], data["description"], data["tags"]) == ("Castle gate", "The gatehouse", ["castle", "gate"])
    assert (data["processingStatus"], data["processingError"], data["albumId"], data["flagged"]) == (
        "ready",
        None,
        None,
        False,
    )
    assert TIMESTAMP.match(data["createdAt"]) and TIMESTAMP.match(data["lastUpdatedAt"])
    segment = storage.user_key_segment(owner)
    image_key = f"images/{segment}/{data['id']}.webp"
    thumbnail_key = f"images/{segment}/thumbnails/{data['id']}.webp"
    assert gallery_keys(owner) == sorted([image_key, thumbnail_key])  # the original under tmp/ is gone
    assert f"/{image_key}" in data["imageUrl"] and f"/{thumbnail_key}" in data["thumbnailUrl"]
    row = GalleryImage.objects.get(pk=data["id"])
    assert (row.image_url, row.thumbnail_url, row.staging_key) == (image_key, thumbnail_key, None)


@pytest.mark.parametrize("field", ["image", "file"])
def test_upload_takes_the_file_under_image_or_file(api, upload_image, field):
    response = upload_image(api, image_part("gate.png", photo_bytes("PNG"), "image/png"), field=field)

    assert response.status_code == 201, response.content
    assert response.json()["data"]["title"] == "gate"


@pytest.mark.parametrize(
    ("filename", "title"),
    [
        ("Castle Gate.final.jpg", "Castle Gate.final"),
        (".jpg", "Untitled"),
        ("   .jpeg", "Untitled"),
        (f"{'x' * 250}.jpg", "x" * 200),
    ],
)
def test_title_defaults_to_the_file_name_without_its_extension(api, upload_image, filename, title):
    response = upload_image(api, image_part(filename), title="   ")

    assert response.status_code == 201, response.content
    assert response.json()["data"]["title"] == title


def test_upload_into_an_own_album(api, owner, upload_image, album):
    response = upload_image(api, albumId=str(album.pk))

    assert response.status_code == 201, response.content
    assert response.json()["data"]["albumId"] == str(album.pk)


def test_upload_into_another_users_album_is_400_and_stores_nothing(api, owner, other_user, upload_image):
    foreign = GalleryAlbumFactory(user_id=other_user)

    for album_id in (foreign.pk, uuid.uuid4()):
        response = upload_image(api, albumId=str(album_id))

        assert field_errors(response) == {"albumId": ["Album not found"]}
    assert not GalleryImage.objects.filter(user_id=owner).exists()
    assert gallery_keys(owner) == []


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"title": "t" * 201}, {"title": ["Ensure this field has no more than 200 characters."]}),
        ({"description": "d" * 2001}, {"description": ["Ensure this field has no more than 2000 characters."]}),
        ({"tags": '["a", '}, {"tags": ["Must be a JSON array of strings."]}),
        ({"tags": str([f"t{i}" for i in range(21)]).replace("'", '"')}, {"tags": ["At most 20 tags are allowed."]}),
        ({"albumId": "not-a-uuid"}, {"albumId": ["Must be a valid UUID."]}),
    ],
)
def test_upload_field_rules_answer_400_with_field_details(api, owner, upload_image, fields, errors):
    response = upload_image(api, **fields)

    assert field_errors(response) == errors
    assert not GalleryImage.objects.filter(user_id=owner).exists()


def test_upload_without_a_file_is_400_on_image(api):
    response = api.post("/api/images", {"title": "No file"}, format="multipart")

    assert_error(response, 400, "VALIDATION_ERROR", "No file provided", {"image": ["No file provided"]})


def test_upload_of_two_files_is_400(api):
    response = api.post("/api/images", {"image": image_part(), "file": image_part("b.jpg")}, format="multipart")

    assert_error(response, 400, "VALIDATION_ERROR", "Only one file can be uploaded")


def test_upload_under_another_field_name_is_400(api):
    response = api.post("/api/images", {"photo": image_part()}, format="multipart")

    assert_error(response, 400, "VALIDATION_ERROR", "Unexpected file field", {"photo": ["Unexpected file field"]})


@pytest.mark.parametrize(
    ("filename", "data", "content_type", "status", "message"),
    [
        ("empty.jpg", b"", "image/jpeg", 400, "File is empty"),
        (
            "plan.pdf",
            b"%PDF-1.4\n%%EOF\n",
            "application/pdf",
            415,
            "Unsupported file type. Allowed: .jpg, .jpeg, .png, .webp",
        ),
        (
            "photo.png",
            photo_bytes("JPEG"),
            "image/png",
            400,
            "File content does not match its extension or declared type",
        ),
        ("broken.jpg", b"\xff\xd8\xff" + b"\x00" * 200, "image/jpeg", 400, "File is not a valid image"),
    ],
)
def test_upload_file_checks(api, owner, upload_image, filename, data, content_type, status, message):
    response = upload_image(api, image_part(filename, data, content_type))

    error_type = {400: "VALIDATION_ERROR", 415: "UNSUPPORTED_MEDIA_TYPE"}[status]
    assert_error(response, status, error_type, message, {"image": [message]})
    assert gallery_keys(owner) == []


def test_upload_over_10_mb_is_413(api, upload_image):
    data = photo_bytes("PNG", (16, 16)) + b"\0" * (10 * 1_048_576)

    response = upload_image(api, image_part("huge.png", data, "image/png"))

    assert_error(response, 413, "PAYLOAD_TOO_LARGE", "File too large (max 10 MB)")


def test_upload_as_json_is_415(api):
    response = api.post("/api/images", {"title": "x"}, format="json")

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be multipart/form-data")


@override_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_GENERAL="50/900", RATE_LIMIT_UPLOAD="2/3600")
def test_upload_alone_counts_in_the_upload_rate_limit(api, upload_image):
    assert [upload_image(api).status_code for _ in range(3)] == [201, 201, 429]
    assert api.get("/api/images").status_code == 200
    response = upload_image(api)
    assert_error(response, 429, "TOO_MANY_REQUESTS")
    assert response.json()["error"]["details"]["category"] == "upload"


# --- G2 -----------------------------------------------------------------------------------------------------------


def test_list_shows_every_own_image_newest_first(api, owner, other_user):
    album = GalleryAlbumFactory(user_id=owner)
    older = GalleryImageFactory(user_id=owner)
    in_album = GalleryImageFactory(user_id=owner, album=album)
    GalleryImageFactory(user_id=other_user)

    response = api.get("/api/images")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["id"] for item in body["data"]] == [str(in_album.pk), str(older.pk)]
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (2, 1, 20, 1)
    assert set(body["data"][0]) == IMAGE_KEYS


def test_list_filters_by_album_tag_and_flagged(api, owner, other_user):
    album = GalleryAlbumFactory(user_id=owner)
    castle = GalleryImageFactory(user_id=owner, album=album, tags=["castle"])
    space = GalleryImageFactory(user_id=owner, tags=["space"], flagged=True)
    plain = GalleryImageFactory(user_id=owner, tags=[])
    foreign_album = GalleryAlbumFactory(user_id=other_user)
    GalleryImageFactory(user_id=other_user, album=foreign_album)

    def ids(**query) -> set[str]:
        response = api.get("/api/images", query)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["data"]}

    assert ids(albumId=str(album.pk)) == {str(castle.pk)}
    assert ids(albumId=str(foreign_album.pk)) == set()  # a foreign id simply matches nothing
    assert ids(tag="CASTLE") == {str(castle.pk)}
    assert ids(flagged="true") == {str(space.pk)}
    assert ids(flagged="FALSE") == {str(castle.pk), str(plain.pk)}
    assert ids(flagged="0", tag="castle") == {str(castle.pk)}


def test_list_query_count_does_not_grow(owner, api, clock, django_assert_max_num_queries):
    """A COUNT and one page query, whatever the number of images, albums and flags."""

    def populate(count: int) -> None:
        for _ in range(count):
            album = GalleryAlbumFactory(user_id=owner)
            GalleryFlagFactory(image=GalleryImageFactory(user_id=owner, album=album))

    api.get("/api/images", {"limit": 1})  # the caller's first request also records their profile
    for count, limit in ((1, 100), (49, 99)):
        populate(count)
        with django_assert_max_num_queries(2):
            response = api.get("/api/images", {"limit": limit, "flagged": "false"})
        assert len(response.json()["data"]) == response.json()["total"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"albumId": "nope"}, "albumId"),
        ({"flagged": "yes"}, "flagged"),
        ({"search": "s" * 201}, "search"),
        ({"tag": "t" * 51}, "tag"),
        ({"page": "0"}, "page"),
        ({"limit": "101"}, "limit"),
        ({"tag": "a\x00b"}, "tag"),
    ],
)
def test_list_query_rules_answer_400_on_the_parameter(api, query, field):
    assert field in field_errors(api.get("/api/images", query))


def test_list_with_search_ranks_by_relevance_and_keeps_the_filters(api, owner):
    album = GalleryAlbumFactory(user_id=owner)
    in_album = GalleryImageFactory(user_id=owner, album=album, title="Red dragon", tags=["dragon"])
    outside = GalleryImageFactory(user_id=owner, title="Red dragon", tags=["dragon"])
    other = GalleryImageFactory(user_id=owner, album=album, title="Blue castle", tags=["castle"], description="No")
    indexed(in_album, outside, other)

    response = api.get("/api/images", {"search": "dragon", "albumId": str(album.pk)})

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["data"]] == [str(in_album.pk)]
    assert response.json()["total"] == 1
    assert response["X-Search-Backend"] in ("opensearch", "postgres")


def test_list_is_cached_and_a_write_makes_it_stale(api, owner, upload_image):
    GalleryImageFactory(user_id=owner)
    assert [api.get("/api/images")["X-Cache"] for _ in range(2)] == ["MISS", "HIT"]
    assert api.get("/api/images", {"flagged": "false"})["X-Cache"] == "MISS"  # false is a filter, not its absence

    assert upload_image(api).status_code == 201

    response = api.get("/api/images")
    assert response["X-Cache"] == "MISS"
    assert response.json()["total"] == 2


# --- G4 -----------------------------------------------------------------------------------------------------------


def test_owner_reads_an_image_cached(api, image):
    first, second = api.get(f"/api/images/{image.pk}"), api.get(f"/api/images/{image.pk}")

    assert first.status_code == 200, first.content
    assert first.json()["data"]["id"] == str(image.pk)
    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert api.get(f"/api/images/{str(image.pk).upper()}")["X-Cache"] == "HIT"


def test_other_user_gets_403_and_a_missing_image_404(api, other_api, image):
    assert_error(other_api.get(f"/api/images/{image.pk}"), 403, "FORBIDDEN", "You do not own this image")
    assert_error(api.get(f"/api/images/{uuid.uuid4()}"), 404, "NOT_FOUND", "Image not found")


# --- G5 -----------------------------------------------------------------------------------------------------------


def test_owner_updates_an_image(api, owner, image, album):
    before = api.get(f"/api/images/{image.pk}").json()["data"]

    response = api.patch(
        f"/api/images/{image.pk}",
        {"title": " Portcullis ", "description": "", "tags": None, "albumId": str(album.pk)},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Image updated successfully"
    data = response.json()["data"]
    assert (data["title"], data["description"], data["tags"], data["albumId"]) == (
        "Portcullis",
        None,
        [],
        str(album.pk),
    )
    assert data["lastUpdatedAt"] > before["lastUpdatedAt"]
    assert data["createdAt"] == before["createdAt"]
    assert api.get(f"/api/images/{image.pk}").json()["data"] == data  # the cached detail was made stale
    found = api.get("/api/images/search", {"search": "portcullis"}).json()["data"]
    assert [item["id"] for item in found] == [str(image.pk)]


def test_put_is_a_partial_update_too(api, image):
    response = api.put(f"/api/images/{image.pk}", {"description": "New text"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["data"]["title"], response.json()["data"]["description"]) == (image.title, "New text")


def test_update_can_take_an_image_out_of_its_album(api, owner, album):
    image = GalleryImageFactory(user_id=owner, album=album)

    response = api.patch(f"/api/images/{image.pk}", {"albumId": None}, format="json")

    assert response.json()["data"]["albumId"] is None


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"title": ""}, {"title": ["This field may not be blank."]}),
        ({"title": None}, {"title": ["This field may not be blank."]}),
        ({"title": "t" * 201}, {"title": ["Ensure this field has no more than 200 characters."]}),
        ({"description": "d" * 2001}, {"description": ["Ensure this field has no more than 2000 characters."]}),
        ({"tags": {"a": 1}}, {"tags": ["Expected a list of tags."]}),
        ({"tags": [1]}, {"tags": ["Each tag must be a string."]}),
        ({"albumId": "x"}, {"albumId": ["Must be a valid UUID."]}),
    ],
)
def test_update_field_rules_answer_400_with_field_details(api, image, body, errors):
    assert field_errors(api.patch(f"/api/images/{image.pk}", body, format="json")) == errors


def test_update_into_another_users_album_is_400(api, other_user, image):
    foreign = GalleryAlbumFactory(user_id=other_user)

    response = api.patch(f"/api/images/{image.pk}", {"albumId": str(foreign.pk)}, format="json")

    assert field_errors(response) == {"albumId": ["Album not found"]}
    assert GalleryImage.objects.get(pk=image.pk).album_id is None


def test_update_by_other_user_is_403_and_of_a_missing_image_404(api, other_api, image):
    assert_error(other_api.patch(f"/api/images/{image.pk}", {"title": "x"}, format="json"), 403, "FORBIDDEN")
    assert_error(api.patch(f"/api/images/{uuid.uuid4()}", {"title": "x"}, format="json"), 404, "NOT_FOUND")
    assert GalleryImage.objects.get(pk=image.pk).title == image.title


def test_update_with_an_empty_body_is_400(api, image):
    response = api.generic("PATCH", f"/api/images/{image.pk}", "", content_type="application/json")

    assert_error(response, 400, "BAD_REQUEST", "Malformed JSON body")


# --- G6 -----------------------------------------------------------------------------------------------------------


def test_owner_deletes_an_image_with_its_objects_flags_and_album_cover(api, owner, other_user, upload_image):
    album = GalleryAlbumFactory(user_id=owner)
    image_id = upload_image(api, albumId=str(album.pk)).json()["data"]["id"]
    GalleryAlbum.objects.filter(pk=album.pk).update(cover_image_id=image_id)
    GalleryFlagFactory(image_id=image_id, user_id=other_user)
    assert len(gallery_keys(owner)) == 2

    response = api.delete(f"/api/images/{image_id}")

    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Image deleted successfully"
    assert response.json()["data"] == {"id": image_id}
    assert not GalleryImage.objects.filter(pk=image_id).exists()
    assert not GalleryFlag.objects.filter(image_id=image_id).exists()
    assert GalleryAlbum.objects.get(pk=album.pk).cover_image_id is None
    assert gallery_keys(owner) == []
    assert_error(api.get(f"/api/images/{image_id}"), 404, "NOT_FOUND", "Image not found")


def test_delete_of_a_pending_image_removes_its_staging_object(api, owner, image):
    staging_key = f"tmp/{storage.user_key_segment(owner)}/{image.pk}.jpg"
    storage.save_bytes(staging_key, photo_bytes(), content_type="image/jpeg")
    GalleryImage.objects.filter(pk=image.pk).update(processing_status="pending", staging_key=staging_key)

    assert api.delete(f"/api/images/{image.pk}").status_code == 200

    assert gallery_keys(owner) == []


def test_delete_by_other_user_is_403_and_of_a_missing_image_404(api, other_api, image):
    assert_error(other_api.delete(f"/api/images/{image.pk}"), 403, "FORBIDDEN", "You do not own this image")
    assert_error(api.delete(f"/api/images/{uuid.uuid4()}"), 404, "NOT_FOUND", "Image not found")
    assert GalleryImage.objects.filter(pk=image.pk).exists()
