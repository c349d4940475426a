"""Flags G7 `POST /api/images/{id}/flag` and G8 `POST /api/flag` (SPEC §4.3): any user flags any existing image once;
the image's `flagged` and every cache stay as they were; the 409 of a second flag, also under parallel requests
released together against real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from gallery.models import GalleryFlag, GalleryImage
from tests.factories import GalleryFlagFactory
from tests.helpers import assert_error
from tests.mocs.test_races import assert_one_winner, clients_of, race

pytestmark = pytest.mark.django_db(transaction=True)

ALREADY_FLAGGED = "You have already flagged this image"
FLAG_KEYS = {"id", "imageId", "userId", "reason", "createdAt", "lastUpdatedAt"}


def flag(api, image_id, reason=None, *, alias: bool = False):
    body = {} if reason is None else {"reason": reason}
    if alias:
        return api.post("/api/flag", {"imageId": str(image_id), **body}, format="json")
    return api.post(f"/api/images/{image_id}/flag", body, format="json")


@pytest.mark.parametrize("alias", [False, True], ids=["G7", "G8"])
def test_another_user_flags_an_image_without_changing_it(api, other_api, other_user, image, alias):
    api.get(f"/api/images/{image.pk}")  # cached for the owner

    response = flag(other_api, image.pk, "  Not a LEGO build  ", alias=alias)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "Image flagged for moderation"
    assert set(body["data"]) == FLAG_KEYS
    assert (body["data"]["imageId"], body["data"]["userId"], body["data"]["reason"]) == (
        str(image.pk),
        other_user,
        "Not a LEGO build",
    )
    assert GalleryImage.objects.get(pk=image.pk).flagged is False
    assert api.get(f"/api/images/{image.pk}")["X-Cache"] == "HIT"  # no cache effect


@pytest.mark.parametrize("alias", [False, True], ids=["G7", "G8"])
def test_owner_may_flag_an_own_image_without_a_reason(api, owner, image, alias):
    response = flag(api, image.pk, alias=alias)

    assert response.status_code == 201, response.content
    assert response.json()["data"]["reason"] is None
    assert GalleryFlag.objects.get(image_id=image.pk).user_id == owner


@pytest.mark.parametrize("alias", [False, True], ids=["G7", "G8"])
def test_a_second_flag_by_the_same_user_is_409(other_api, other_user, image, alias):
    GalleryFlagFactory(image=image, user_id=other_user)

    response = flag(other_api, image.pk, "again", alias=alias)

    error = assert_error(response, 409, "CONFLICT", ALREADY_FLAGGED)
    assert "details" not in error
    assert GalleryFlag.objects.filter(image_id=image.pk).count() == 1


def test_each_user_flags_an_image_once(api, other_api, image):
    assert flag(api, image.pk).status_code == 201
    assert flag(other_api, image.pk, alias=True).status_code == 201

    assert GalleryFlag.objects.filter(image_id=image.pk).count() == 2


def test_flagging_a_missing_image_is_404_and_by_reference_400(api):
    missing = uuid.uuid4()

    assert_error(flag(api, missing), 404, "NOT_FOUND", "Image not found")
    assert_error(
        flag(api, missing, alias=True), 400, "VALIDATION_ERROR", "Validation failed", {"imageId": ["Image not found"]}
    )


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"reason": "r" * 1001}, {"reason": ["Ensure this field has no more than 1000 characters."]}),
        ({"reason": ["a"]}, {"reason": ["Not a valid string."]}),
        ({"reason": "a\u0000b"}, None),
    ],
)
def test_flag_reason_rules_answer_400(other_api, image, body, errors):
    response = other_api.post(f"/api/images/{image.pk}/flag", body, format="json")

    error = assert_error(response, 400, "VALIDATION_ERROR")
    if errors is not None:
        assert error["details"]["fields"] == errors
    assert not GalleryFlag.objects.exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"imageId": ["This field is required."]}),
        ({"imageId": "nope"}, {"imageId": ["Must be a valid UUID."]}),
    ],
)
def test_flag_alias_needs_an_image_id(api, body, errors):
    response = api.post("/api/flag", body, format="json")

    assert_error(response, 400, "VALIDATION_ERROR", "Validation failed", errors)


def test_flag_needs_a_json_body(other_api, image):
    response = other_api.post(f"/api/images/{image.pk}/flag", {"reason": "x"}, format="multipart")

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")


def test_flag_route_serves_post_only(other_api, image):
    response = other_api.get(f"/api/images/{image.pk}/flag")

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "POST"


# --- Parallel requests ---------------------------------------------------------------------------------------------


def test_parallel_flags_by_one_user_give_one_201_and_409s(token_for, other_user, image):
    clients = clients_of(token_for(other_user))

    responses = race(clients, lambda index, api: flag(api, image.pk, f"report {index}", alias=index % 2 == 1))

    winner = assert_one_winner(responses, success=201, message=ALREADY_FLAGGED)
    assert list(GalleryFlag.objects.values_list("id", flat=True)) == [uuid.UUID(winner.json()["data"]["id"])]


def test_parallel_flags_racing_an_uncommitted_flag_give_one_201_and_409s(token_for, other_user, image):
    """The requests' checks miss a flag not yet committed by another transaction and wait on the unique index and
    the image row; once it is rolled back, one of them stores the flag and the rest find it."""
    clients = clients_of(token_for(other_user))

    responses = race(
        clients,
        lambda _, api: flag(api, image.pk),
        hold=lambda: GalleryFlag.objects.create(image_id=image.pk, user_id=other_user),
    )

    assert_one_winner(responses, success=201, message=ALREADY_FLAGGED)
    assert GalleryFlag.objects.filter(image_id=image.pk, user_id=other_user).count() == 1
