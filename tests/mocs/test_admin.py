"""The MOC admin (SPEC §7.2): staff pages open, search and filter, and saves, deletes and actions go through the
services (cache bump, search index, storage)."""

from __future__ import annotations

import pytest
from django.test import Client

from lego_api.core import search as core_search
from lego_api.core.cache import get_versions
from mocs.models import Moc, MocPartsList, PartsListStatus
from tests.factories import MocFactory, MocFileFactory, MocPartFactory, MocPartsListFactory, SetFactory

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_the_login_page():
    response = Client().get("/admin/mocs/moc/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_changelist_opens_and_lists_mocs(staff):
    MocFactory(title="Coffee Truck")
    SetFactory(title="Assembly Square")
    response = staff.get("/admin/mocs/moc/")
    assert response.status_code == 200
    assert b"Coffee Truck" in response.content and b"Assembly Square" in response.content


def test_changelist_search_and_filter(staff):
    MocFactory(title="Coffee Truck", author="Jane Builder")
    SetFactory(title="Assembly Square", set_number="10255")
    found = staff.get("/admin/mocs/moc/", {"q": "10255"})
    assert b"Assembly Square" in found.content and b"Coffee Truck" not in found.content
    by_author = staff.get("/admin/mocs/moc/", {"q": "Jane"})
    assert b"Coffee Truck" in by_author.content and b"Assembly Square" not in by_author.content
    sets = staff.get("/admin/mocs/moc/", {"type__exact": "set"})
    assert b"Assembly Square" in sets.content and b"Coffee Truck" not in sets.content


def test_change_page_opens_with_files_and_parts_lists_inline(staff):
    moc = MocFactory(title="Coffee Truck")
    MocFileFactory(moc=moc, original_filename="truck-instructions.pdf")
    MocPartsListFactory(moc=moc, title="Main bricks")
    response = staff.get(f"/admin/mocs/moc/{moc.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "truck-instructions.pdf" in body and "Main bricks" in body
    assert 'name="search_vector"' not in body
    assert 'name="user_id"' not in body and 'name="type"' not in body  # read-only once created


def test_other_pages_open(staff):
    moc = MocFactory()
    file = MocFileFactory(moc=moc)
    part = MocPartFactory(parts_list__moc=moc)
    for url in [
        "/admin/mocs/mocfile/",
        f"/admin/mocs/mocfile/{file.pk}/change/",
        "/admin/mocs/mocpartslist/",
        f"/admin/mocs/mocpartslist/{part.parts_list.pk}/change/",
        "/admin/mocs/mocpart/",
        f"/admin/mocs/mocpart/{part.pk}/change/",
        "/admin/mocs/moc/add/",
    ]:
        assert staff.get(url).status_code == 200, url


def test_reindex_action_indexes_the_selection(staff, django_capture_on_commit_callbacks):
    mocs = [MocFactory(user_id="admin-reindex"), MocFactory(user_id="admin-reindex")]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/admin/mocs/moc/",
            {"action": "reindex_in_search", "_selected_action": [str(m.pk) for m in mocs]},
            follow=True,
        )
    assert response.status_code == 200
    assert b"2 MOC(s) queued for reindexing." in response.content
    client = core_search.get_client()
    for moc in mocs:
        document = client.get(index=core_search.index_name("mocs"), id=str(moc.pk))["_source"]
        assert document["title"] == moc.title


def test_reparse_action_requeues_lists_with_a_source_file(staff, django_capture_on_commit_callbacks):
    moc = MocFactory()
    file = MocFileFactory(moc=moc, file_type="parts-list", original_filename="bricks.csv")
    from_file = MocPartsListFactory(moc=moc, file=file, format="rebrickable-csv")
    manual = MocPartsListFactory(moc=moc)
    response = staff.post(
        "/admin/mocs/moc/", {"action": "reparse_parts_lists", "_selected_action": [str(moc.pk)]}, follow=True
    )
    assert b"1 parts list(s) queued for parsing (1 without a source file skipped)." in response.content
    from_file.refresh_from_db()
    manual.refresh_from_db()
    assert from_file.status == PartsListStatus.PENDING
    assert manual.status == PartsListStatus.READY


def test_save_goes_through_the_service(staff, django_capture_on_commit_callbacks):
    moc = MocFactory(title="Coffee Truck", user_id="admin-save", tags=["food"])
    version = get_versions("admin-save", "mocs")["mocs"]
    form = {
        "title": "  Espresso Truck  ",
        "description": "",
        "author": "Jane Builder",
        "parts_count": "400",
        "theme": "City",
        "subtheme": "",
        "uploaded_date_0": "2025-01-15",
        "uploaded_date_1": "10:30:00",
        "brand": "",
        "set_number": moc.set_number,
        "release_year": "",
        "retired": "unknown",
        "tags": '["Food", "Coffee", "food"]',
        "thumbnail_url": "",
        **_empty_inlines(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/admin/mocs/moc/{moc.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    moc.refresh_from_db()
    assert moc.title == "Espresso Truck"
    assert moc.description is None
    assert moc.tags == ["food", "coffee"]
    assert moc.parts_count == 400
    assert get_versions("admin-save", "mocs")["mocs"] > version  # the user's cached MOC responses are stale now


def test_save_refuses_what_the_api_refuses(staff):
    moc = MocFactory(title="Coffee Truck")
    form = {
        "title": "Coffee Truck",
        "author": "Jane",
        "parts_count": "400",
        "theme": "City",
        "set_number": moc.set_number,
        "brand": "LEGO",
        "retired": "unknown",
        "tags": "[]",
        **_empty_inlines(),
    }
    response = staff.post(f"/admin/mocs/moc/{moc.pk}/change/", form)
    assert response.status_code == 200
    assert "Not allowed for type moc" in response.content.decode()
    moc.refresh_from_db()
    assert moc.brand is None


def test_save_refuses_a_duplicate_title(staff):
    MocFactory(title="Taken", user_id="admin-dup")
    moc = MocFactory(title="Mine", user_id="admin-dup")
    form = {
        "title": "Taken",
        "author": moc.author,
        "parts_count": str(moc.parts_count),
        "theme": moc.theme,
        "set_number": moc.set_number,
        "retired": "unknown",
        "tags": "[]",
        **_empty_inlines(),
    }
    response = staff.post(f"/admin/mocs/moc/{moc.pk}/change/", form)
    assert response.status_code == 200
    assert "A MOC with this title already exists" in response.content.decode()


def test_add_creates_through_the_service(staff):
    form = {
        "user_id": "admin-add",
        "type": "set",
        "title": "Assembly Square",
        "brand": "LEGO",
        "theme": "Modular",
        "set_number": "10255",
        "release_year": "2017",
        "retired": "unknown",
        "tags": '["Modular"]',
        **_empty_inlines(),
    }
    response = staff.post("/admin/mocs/moc/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    lego_set = Moc.objects.get(user_id="admin-add")
    assert lego_set.retired is False and lego_set.tags == ["modular"]
    assert lego_set.search_vector is not None


def test_delete_and_bulk_delete_go_through_the_service(staff):
    moc = MocFactory()
    MocPartsListFactory(moc=moc)
    response = staff.post(f"/admin/mocs/moc/{moc.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Moc.objects.filter(pk=moc.pk).exists()
    assert not MocPartsList.objects.filter(moc_id=moc.pk).exists()
    others = [MocFactory(), MocFactory()]
    staff.post(
        "/admin/mocs/moc/",
        {"action": "delete_selected", "_selected_action": [str(m.pk) for m in others], "post": "yes"},
    )
    assert not Moc.objects.filter(pk__in=[m.pk for m in others]).exists()


def _empty_inlines() -> dict[str, str]:
    form = {}
    for prefix in ("files", "parts_lists"):
        form.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return form
