"""Schema fuzzing (issue #7): schemathesis generates requests for every operation of the OpenAPI document (valid and
invalid data) and sends them to the WSGI app in-process, as a user who owns real objects. Every response must be no
5xx, have a documented status, and match the documented body.

Run alone: `.venv/bin/python -m pytest -q tests/fuzz`. Fixed seed (derandomized), FUZZ_EXAMPLES examples per operation.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from gallery.models import GalleryAlbum
from lego_api.core.casing import to_camel
from lego_api.wsgi import application
from mocs.serializers import MOC_ONLY_FIELDS, SET_ONLY_FIELDS
from tests.factories import GalleryAlbumFactory, GalleryImageFactory
from tests.samples import CSV, PDF, image_bytes

APP_URLCONF = "lego_api.urls"  # the served routes, without the test URLconf's probe routes
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
USER = "fuzz-user"


def _document() -> dict[str, Any]:
    document = SchemaGenerator(urlconf=APP_URLCONF).get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


DOCUMENT = _document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
SCHEMA.app = application  # requests go to the WSGI app in-process
LABELS = sorted(f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item)


# --- Real objects the generated requests can name ---------------------------------------------------------------

# `{id}` of a path under these first segments names this object of the World (a MOC's otherwise).
PATH_ID_KEYS = {"albums": "albumId", "images": "imageId"}


@dataclass
class World:
    """A MOC of the fuzzing user with a file, a parts list and a linked gallery image, an album, and a wishlist item;
    removed any of it."""

    api: APIClient
    ids: dict[str, str] = field(default_factory=dict)
    wishlist_ids: dict[str, str] = field(default_factory=dict)
    stale: bool = True
    _titles: itertools.count = field(default_factory=itertools.count)
    _user_path_ids: Iterator[str] = field(default_factory=lambda: itertools.cycle([USER, "me"]))

    def build(self) -> None:
        response = self.api.post(
            "/api/mocs/with-files",
            {
                "type": "moc",
                "title": f"Fuzzed MOC {next(self._titles)}",
                "author": "fuzz",
                "partsCount": "3",
                "theme": "Town",
                "setNumber": "MOC-1",
                "instructionsFile": _upload("steps.pdf", PDF),
                "partsLists": _upload("bricks.csv", CSV),
                "images": _upload("cover.png", image_bytes("PNG")),
            },
            format="multipart",
        )
        assert response.status_code == 201, response.content
        moc = response.json()["data"]
        image = GalleryImageFactory(user_id=USER)  # a processed image of the user's, linked to the MOC (M14-M16)
        linked = self.api.post(
            f"/api/mocs/{moc['id']}/gallery-images", {"galleryImageId": str(image.pk)}, format="json"
        )
        assert linked.status_code == 201, linked.content
        album = GalleryAlbumFactory(user_id=USER, cover_image=image)  # with one image of its own (G9-G14)
        GalleryImageFactory(user_id=USER, album=album)
        self.ids = {
            "id": moc["id"],
            "mocId": moc["id"],
            "fileId": moc["files"][0]["id"],
            "plId": moc["partsLists"][0]["id"],
            "galleryImageId": str(image.pk),
            "imageId": str(image.pk),  # G4-G8 (G7's flag by the owner is allowed; a second one is the 409)
            "albumId": str(album.pk),
            "coverImageId": str(image.pk),
        }
        item = self.api.post("/api/wishlist", {"title": "Fuzzed wish", "category": "Fuzz"}, format="json")
        assert item.status_code == 201, item.content
        self.wishlist_ids = {"id": item.json()["data"]["id"]}
        self.stale = False

    def check(self) -> None:
        """After a write: rebuild before the next request if it removed any of the objects (a delete, a finalize
        that drops a file, an unlink)."""
        response = self.api.get(f"/api/mocs/{self.ids['id']}")
        moc = response.json()["data"] if response.status_code == 200 else {}
        files = {item["id"] for item in moc.get("files", [])}
        parts_lists = {item["id"] for item in moc.get("partsLists", [])}
        linked = {item["galleryImageId"] for item in moc.get("images", []) if item["source"] == "gallery"}
        self.stale = (
            self.ids["fileId"] not in files
            or self.ids["plId"] not in parts_lists
            or self.ids["galleryImageId"] not in linked
            or not GalleryAlbum.objects.filter(pk=self.ids["albumId"]).exists()
        )
        self.stale |= self.api.get(f"/api/wishlist/{self.wishlist_ids['id']}").status_code != 200

    def ids_for(self, path: str) -> dict[str, str]:
        """The real objects a path's ids name: the caller under /api/users (its sub and `me` in turn), the wishlist
        item under /api/wishlist, else the seeded objects, with `{id}` naming the resource of the path's first
        segment (the MOC unless PATH_ID_KEYS says otherwise)."""
        if path.startswith("/api/users"):
            return {"id": next(self._user_path_ids)}
        if path.startswith("/api/wishlist"):
            return self.wishlist_ids
        owner_key = PATH_ID_KEYS.get(path.split("/")[2])
        return {**self.ids, "id": self.ids[owner_key]} if owner_key else self.ids

    def substitute(self, value: Any, ids: dict[str, str]) -> Any:
        """`value` with every key named like a real object's id (in `ids`) pointing at that object."""
        if isinstance(value, dict):
            return {key: ids.get(key) or self.substitute(item, ids) for key, item in value.items()}
        if isinstance(value, list):
            return [self.substitute(item, ids) for item in value]
        return value


# SPEC §3.4's per-type rules, which the document cannot express (they depend on `type`): a generated MocWrite body
# gets the fields its type requires where it lacks them and loses the other type's fields, so that creates and
# updates get past validation and their 2xx bodies are checked too.
MOC_WRITE_REQUIRED = {
    "moc": {"title": "Fuzzed", "author": "fuzz", "partsCount": 3, "theme": "Town", "setNumber": "MOC-1"},
    "set": {"title": "Fuzzed", "brand": "LEGO", "theme": "Town", "setNumber": "10270"},
}
OTHER_TYPE_FIELDS = {
    "moc": {to_camel(name) for name in SET_ONLY_FIELDS},
    "set": {to_camel(name) for name in MOC_ONLY_FIELDS},
}


def takes_moc_write(label: str) -> bool:
    method, path = label.split(" ", 1)
    body = DOCUMENT["paths"][path][method.lower()].get("requestBody", {})
    for media in body.get("content", {}).values():
        name = media["schema"].get("$ref", "").rsplit("/", 1)[-1]
        if {"type", "title", "setNumber"} <= set(DOCUMENT["components"]["schemas"].get(name, {}).get("properties", {})):
            return True
    return False


def complete_moc_write(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    kind = body.get("type", "moc")
    if not isinstance(kind, str) or kind not in MOC_WRITE_REQUIRED:
        return body  # an invalid type stays, to be refused
    own = {key: value for key, value in body.items() if key not in OTHER_TYPE_FIELDS[kind]}
    return {**MOC_WRITE_REQUIRED[kind], "type": kind, **own}


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.fixture(autouse=True)
def identity_provider(request, services) -> None:
    """A Cognito pool (moto) that knows the fuzzing user, so that U1/U2 answer from it (the harness's default pool
    does not exist: U2 would be 503)."""
    from tests.profiles.cognito import CognitoPool

    CognitoPool.create(request.getfixturevalue("settings")).add_user(USER, email="fuzz@example.com", name="Fuzz User")


@pytest.fixture
def world(auth_client) -> World:
    return World(api=auth_client(USER))


# --- The fuzzing ------------------------------------------------------------------------------------------------


def test_every_operation_of_the_document_is_fuzzed():
    """The parametrized test below runs once per operation of the document: apps added later are fuzzed too."""
    loaded = [result.ok().label for result in SCHEMA.get_all_operations()]  # `.ok()` raises on an unloadable one
    assert sorted(loaded) == LABELS
    assert len(LABELS) >= 29


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("label", LABELS)
def test_operation_conforms_to_the_document(label, world, token_for):
    method, path = label.split(" ", 1)
    operation = SCHEMA[path][method]
    headers = {"Authorization": f"Bearer {token_for(USER)}"}
    statuses: Counter[int] = Counter()
    real_requests = 0
    # Path ids, or a body or query parameter that may name one (`mocId`, `fileId`, `albumId`).
    query_names = [
        p["name"] for p in DOCUMENT["paths"][path][method.lower()].get("parameters", []) if p["in"] == "query"
    ]
    names_objects = "{" in path or operation.body or any(name.endswith("Id") for name in query_names)
    moc_write = takes_moc_write(label)

    cases = st.one_of(
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    # Most requests name the user's real objects; the rest keep the generated (random) ids.
    @given(case=cases, use_real_ids=st.sampled_from([True, True, True, False]))
    def fuzz(case, use_real_ids: bool) -> None:
        nonlocal real_requests
        if use_real_ids and names_objects:
            if world.stale:
                world.build()
            ids = world.ids_for(path)
            case.path_parameters = world.substitute(case.path_parameters, ids)
            if isinstance(case.query, dict):
                case.query = world.substitute(case.query, ids)
            if isinstance(case.body, dict | list):
                case.body = world.substitute(case.body, ids)
            if moc_write:
                case.body = complete_moc_write(case.body)
            real_requests += 1
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        statuses[response.status_code] += 1
        if method != "GET" and response.status_code < 300 and world.ids:
            world.check()

    fuzz()
    print(f"\n{label}: {dict(sorted(statuses.items()))}, {real_requests} with real ids")
    assert sum(statuses.values()) > 0
    assert real_requests > 0 or not names_objects
