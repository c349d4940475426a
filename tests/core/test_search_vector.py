"""The `search_vector` expression (`lego_api.core.search.vector`, SPEC §3.0): title A, tags B (the strings of a
jsonb array), description C, with the english configuration, computed by PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from gallery.models import GalleryImage
from tests.factories import GalleryImageFactory

pytestmark = pytest.mark.django_db


def test_title_tags_and_description_are_weighted_a_b_c():
    image = GalleryImageFactory(title="Castles", tags=["Towers", "two words"], description="Dragons flying")

    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM gallery_images WHERE id = %s", [image.pk])
        vector = cursor.fetchone()[0]

    assert vector == "'castl':1A 'dragon':6C 'fli':7C 'tower':2B 'two':4B 'word':5B"


def test_a_null_description_and_no_tags_still_give_a_vector():
    image = GalleryImageFactory(title="Harbour", tags=[], description=None)

    assert GalleryImage.objects.filter(pk=image.pk, search_vector="harbour").exists()
