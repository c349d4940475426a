"""The factories build valid rows (the CHECK constraints of SPEC §3.4 hold for both MOCs and sets)."""

import pytest

from tests.factories import MocFactory, MocFileFactory, MocPartFactory, SetFactory

pytestmark = pytest.mark.django_db


def test_factories_build_valid_rows():
    moc = MocFactory()
    lego_set = SetFactory()
    file = MocFileFactory(moc=moc)
    part = MocPartFactory(parts_list__moc=moc)
    assert moc.type == "moc" and lego_set.type == "set"
    assert file.file_url == f"mocs/{moc.user_id}/{moc.id}/{file.id}.pdf"
    assert part.parts_list.moc_id == moc.id
    moc.refresh_from_db()
    assert moc.search_vector is not None
