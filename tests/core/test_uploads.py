"""`lego_api.core.uploads` (SPEC §1.8, §5.1-§5.3): reading real multipart requests (order of appearance, a file under
one of several names, unexpected fields, one file and many), checking a part against its kind, and the one write
order: rows, then each object; whatever fails once an object is written, the commit included, leaves no row and no
object in the real bucket (SeaweedFS) or database.

The core functions get requests built with Django's RequestFactory and parsed by DRF with `FilePartsParser`; the
write order is also driven through the real MOC upload routes with a PostgreSQL trigger that fails the commit."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from rest_framework.request import Request

from gallery.file_kinds import GALLERY_IMAGE
from lego_api.core import storage
from lego_api.core.exceptions import Conflict, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from lego_api.core.files import MB
from lego_api.core.uploads import (
    FilePartsParser,
    check_file_count,
    check_part,
    check_total_size,
    delete_after_commit,
    file_parts,
    form_fields,
    one_file_part,
    store_each,
    undo_on_failure,
)
from mocs.file_kinds import MOC_INSTRUCTION
from mocs.models import Moc, MocFile, MocPartsList
from tests.core.test_input_rules import MULTIPART, multipart
from tests.factories import MocFactory
from tests.helpers import assert_error, moc_prefix, stored_keys
from tests.samples import CSV, PDF, image_bytes, moc_fields

PNG = image_bytes("PNG")


def parsed_request(parts: list[tuple[str, str | None, bytes]]) -> Request:
    """A real multipart POST, as a view that parses with FilePartsParser sees it."""
    django_request = RequestFactory().post("/api/anything", data=multipart(*parts), content_type=MULTIPART)
    return Request(django_request, parsers=[FilePartsParser()])


def uploaded(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- Reading ----------------------------------------------------------------------------------------------------------


def test_file_parts_come_in_order_of_appearance_across_fields():
    request = parsed_request(
        [
            ("files", "a.pdf", PDF),
            ("title", None, b"Truck"),
            ("file", "b.csv", CSV),
            ("files", "c.pdf", PDF),
            ("file", "d.csv", CSV),
        ]
    )
    parts = file_parts(request, ("file", "files"))
    assert [(part.field, part.file.name) for part in parts] == [
        ("files", "a.pdf"),
        ("file", "b.csv"),
        ("files", "c.pdf"),
        ("file", "d.csv"),
    ]
    assert parts[1].file.read() == CSV


def test_a_file_under_a_name_the_route_does_not_list_is_unexpected():
    request = parsed_request([("file", "a.pdf", PDF), ("attachment", "evil.exe", b"MZ")])
    with pytest.raises(ValidationFailed) as exc_info:
        file_parts(request, ("file", "files"))
    assert exc_info.value.message == "Unexpected file field"
    assert exc_info.value.details == {"fields": {"attachment": ["Unexpected file field"]}}


def test_one_file_part_takes_the_file_under_any_of_its_names():
    for field in ("image", "file"):
        part = one_file_part(parsed_request([(field, "photo.png", PNG)]), ("image", "file"))
        assert (part.field, part.file.name) == (field, "photo.png")


def test_one_file_part_needs_exactly_one_file():
    with pytest.raises(ValidationFailed) as exc_info:
        one_file_part(parsed_request([("title", None, b"no file here")]), ("image", "file"))
    assert exc_info.value.details == {"fields": {"image": ["No file provided"]}}  # named after the first name

    with pytest.raises(ValidationFailed) as exc_info:
        one_file_part(parsed_request([("file", "a.png", PNG), ("image", "b.png", PNG)]), ("image", "file"))
    assert exc_info.value.message == "Only one file can be uploaded"
    assert exc_info.value.details == {"fields": {"file": ["Only one file can be uploaded"]}}

    with pytest.raises(ValidationFailed, match="Unexpected file field"):
        one_file_part(parsed_request([("avatar", "a.png", PNG)]), ("image", "file"))


def test_form_fields_are_snake_case_and_repeated_names_stay_lists():
    request = parsed_request(
        [
            ("mocId", None, b"42"),
            ("tags", None, b"castle"),
            ("tags", None, b"space"),
            ("title", None, b"first"),
            ("title", None, b"last"),
            ("file", "a.csv", CSV),
        ]
    )
    assert form_fields(request, lists=("tags",)) == {"moc_id": "42", "tags": ["castle", "space"], "title": "last"}


def test_multi_file_request_limits():
    files = [uploaded(f"{index}.pdf", PDF) for index in range(3)]
    check_file_count(files, max_files=3)
    with pytest.raises(ValidationFailed) as exc_info:
        check_file_count(files, max_files=2)
    assert exc_info.value.details == {"fields": {"nonFieldErrors": ["At most 2 files per request"]}}

    big = [uploaded("a.pdf", b"x" * MB), uploaded("b.pdf", b"x")]
    with pytest.raises(PayloadTooLarge) as exc_info:
        check_total_size(big, max_bytes=MB, field="files")
    assert exc_info.value.details == {"fields": {"files": ["Files too large (max 1 MB in total)"]}}
    check_total_size([uploaded("huge.pdf", b"x" * 2 * MB)], max_bytes=MB)  # one file: its kind's limit decides


def test_check_part_checks_the_part_against_its_kind_and_rewinds_it():
    image = uploaded("photo.png", PNG, "image/png")
    image.read(10)
    checked = check_part(GALLERY_IMAGE, image, field="image")
    assert (checked.extension, checked.mime_type, checked.size) == ("png", "image/png", len(PNG))
    assert image.tell() == 0

    with pytest.raises(UnsupportedMediaType) as exc_info:
        check_part(GALLERY_IMAGE, uploaded("truck.pdf", PDF), field="image")
    assert exc_info.value.details["fields"] == {"image": [exc_info.value.message]}
    with pytest.raises(ValidationFailed, match="File is not a valid image"):
        check_part(GALLERY_IMAGE, uploaded("photo.png", PNG[:40]), field="image")


# --- Writing: rows first, then objects; undone on any failure ---------------------------------------------------------


def new_row(moc_id, name: str) -> MocFile:
    """A file row for `moc_id` with its key (not written yet); the MOC need not exist until the commit."""
    file_id = uuid.uuid4()
    return MocFile.objects.create(
        id=file_id,
        moc_id=moc_id,
        file_type="instruction",
        file_url=f"mocs/{storage.user_key_segment('tester')}/{moc_id}/{file_id}.pdf",
        original_filename=name,
        mime_type="application/pdf",
        file_size=len(PDF),
        status="ready",
    )


def upload_one(writes, moc_id, name: str) -> MocFile:
    checked = check_part(MOC_INSTRUCTION, uploaded(name, PDF), field="file")
    row = new_row(moc_id, name)
    writes.save(row.file_url, PDF, checked=checked)
    return row


def prefix_of(moc_id) -> str:
    return f"mocs/{storage.user_key_segment('tester')}/{moc_id}/"


@pytest.mark.django_db(transaction=True)
def test_a_successful_upload_keeps_its_rows_and_objects():
    moc = MocFactory(user_id="tester")
    with undo_on_failure() as writes, transaction.atomic():
        rows = [upload_one(writes, moc.pk, name) for name in ("a.pdf", "b.pdf")]
    assert stored_keys(prefix_of(moc.pk)) == sorted(row.file_url for row in rows)
    assert MocFile.objects.filter(moc=moc).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_object_writes_leaves_no_row_and_no_object():
    moc = MocFactory(user_id="tester")
    with pytest.raises(Conflict), undo_on_failure() as writes, transaction.atomic():
        upload_one(writes, moc.pk, "a.pdf")
        upload_one(writes, moc.pk, "b.pdf")
        assert len(stored_keys(prefix_of(moc.pk))) == 2
        raise Conflict("a later statement refused the upload")
    assert stored_keys(prefix_of(moc.pk)) == []
    assert not MocFile.objects.filter(moc=moc).exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_commit_deletes_the_objects_written():
    """The rows reference a MOC that does not exist: PostgreSQL's deferred foreign key fails the COMMIT itself."""
    missing_moc = uuid.uuid4()
    with pytest.raises(IntegrityError), undo_on_failure() as writes, transaction.atomic():
        upload_one(writes, missing_moc, "a.pdf")
        assert len(stored_keys(prefix_of(missing_moc))) == 1
    assert stored_keys(prefix_of(missing_moc)) == []
    assert not MocFile.objects.filter(moc_id=missing_moc).exists()


def test_a_re_encoded_image_is_stored_inline_as_webp_and_undone_with_its_upload():
    """`save_webp`: what the image pipeline produced is written as image/webp (served inline, SPEC §5.3), and an
    upload that fails after writing it deletes it like any other object."""
    kept, undone = f"tests/{uuid.uuid4()}/kept.webp", f"tests/{uuid.uuid4()}/undone.webp"
    webp = image_bytes("WEBP")
    with undo_on_failure() as writes:
        writes.save_webp(kept, webp)
    with pytest.raises(Conflict), undo_on_failure() as writes:
        writes.save_webp(undone, webp)
        assert storage.head(undone) is not None
        raise Conflict("a later step refused the upload")
    assert storage.head(kept) == storage.ObjectInfo(size=len(webp), content_type="image/webp")
    assert storage.head(undone) is None
    storage.delete_keys([kept])


@pytest.mark.django_db(transaction=True)
def test_store_each_undoes_only_the_file_that_failed():
    moc = MocFactory(user_id="tester")

    def store(name: str) -> MocFile:
        row = upload_one(writes, moc.pk, name)
        if name.startswith("refused"):
            raise Conflict("MOC already has 10 instruction files")
        return row

    with undo_on_failure() as writes, transaction.atomic():
        stored, failed = store_each(["a.pdf", "refused\u202e.pdf", "c.pdf"], store, writes=writes, filename=str)

    assert [row.original_filename for row in stored] == ["a.pdf", "c.pdf"]
    assert [(failure.filename, failure.error) for failure in failed] == [
        ("refused.pdf", "MOC already has 10 instruction files")
    ]
    assert stored_keys(prefix_of(moc.pk)) == sorted(row.file_url for row in stored)
    assert sorted(MocFile.objects.filter(moc=moc).values_list("original_filename", flat=True)) == ["a.pdf", "c.pdf"]


@pytest.mark.django_db(transaction=True)
def test_deletes_run_only_once_the_transaction_commits():
    prefix = f"tests/uploads/{uuid.uuid4()}/"
    keys = [f"{prefix}{index}.pdf" for index in range(2)]
    for key in keys:
        storage.save_bytes(key, PDF, content_type="application/pdf")

    with contextlib.suppress(RuntimeError), transaction.atomic():
        delete_after_commit(keys)
        raise RuntimeError("rolled back")
    assert stored_keys(prefix) == sorted(keys)  # a rolled-back change deletes nothing

    with transaction.atomic():
        delete_after_commit([*keys, None, keys[0]])
        assert stored_keys(prefix) == sorted(keys)
    assert stored_keys(prefix) == []


# --- The same order through the real MOC routes -----------------------------------------------------------------------


@contextlib.contextmanager
def failing_commit(django_db_blocker, *, filename: str) -> Iterator[None]:
    """A deferred PostgreSQL constraint trigger: a transaction that inserted a `moc_files` row named `filename` fails
    at COMMIT, after every statement (and every object write) of the request has succeeded."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION test_failing_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected commit failure'; END $$"
        )
        cursor.execute(
            "CREATE CONSTRAINT TRIGGER test_failing_commit AFTER INSERT ON moc_files DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW WHEN (NEW.original_filename = '{filename}') EXECUTE FUNCTION test_failing_commit()"
        )
    try:
        yield
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS test_failing_commit ON moc_files")
            cursor.execute("DROP FUNCTION IF EXISTS test_failing_commit()")


ROUTES = {
    "M7 create with files": lambda moc: (
        "/api/mocs/with-files",
        {
            **moc_fields("Exploding Truck"),
            "instructionsFile": [uploaded("truck.pdf", PDF), uploaded("explode.pdf", PDF)],
            "partsLists": [uploaded("bricks.csv", CSV)],
            "images": [uploaded("cover.png", PNG)],
        },
    ),
    "M11 one file": lambda moc: (
        f"/api/mocs/{moc.id}/files",
        {"file": uploaded("explode.pdf", PDF), "fileType": "instruction"},
    ),
    "M11 several files": lambda moc: (
        f"/api/mocs/{moc.id}/files",
        {
            "files": [uploaded("a.pdf", PDF), uploaded("cover.png", PNG), uploaded("explode.pdf", PDF)],
            "fileType": "instruction",
            "fileType_1": "thumbnail",
        },
    ),
    "M17 parts list": lambda moc: (
        f"/api/mocs/{moc.id}/upload-parts-list",
        {"file": uploaded("explode.csv", CSV, "text/csv")},
    ),
    "M18 parts list": lambda moc: (
        "/api/mocs/upload-parts-list",
        {"mocId": str(moc.id), "partsListFile": uploaded("explode.csv", CSV, "text/csv")},
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", list(ROUTES))
def test_an_upload_whose_commit_fails_leaves_no_row_and_no_object(api, owner, django_db_blocker, route):
    moc = MocFactory(user_id=owner)
    path, data = ROUTES[route](moc)
    filename = "explode.csv" if route.startswith(("M17", "M18")) else "explode.pdf"

    with failing_commit(django_db_blocker, filename=filename):
        response = api.post(path, data, format="multipart")

    assert_error(response, 500, "INTERNAL_ERROR", "An unexpected error occurred")
    assert Moc.objects.filter(user_id=owner).count() == 1  # only the MOC made above; M7's is gone
    assert not MocFile.objects.filter(moc__user_id=owner).exists()
    assert not MocPartsList.objects.filter(moc__user_id=owner).exists()
    assert Moc.objects.get(pk=moc.pk).thumbnail_url is None
    assert stored_keys(f"mocs/{storage.user_key_segment(owner)}/") == []
    assert stored_keys(moc_prefix(moc)) == []
