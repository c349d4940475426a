"""factory_boy factories for test data (rows only; files in storage are written by the tests that need them)."""

from __future__ import annotations

import factory
from django.utils import timezone

from gallery.keys import gallery_image_key, gallery_thumbnail_key
from gallery.models import GalleryAlbum, GalleryFlag, GalleryImage, ProcessingStatus
from mocs.models import Moc, MocFile, MocFileStatus, MocFileType, MocPart, MocPartsList, PartsListStatus
from profiles.models import Profile


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user_id = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda o: f"{o.user_id}@example.com")
    name = factory.Faker("name")


class MocFactory(factory.django.DjangoModelFactory):
    """A MOC (`type=moc`); use `SetFactory` for sets."""

    class Meta:
        model = Moc

    user_id = "user-1"
    type = "moc"
    title = factory.Sequence(lambda n: f"Coffee Truck {n}")
    description = "A small food truck with an espresso machine."
    author = "Jane Builder"
    parts_count = 328
    theme = "City"
    set_number = factory.Sequence(lambda n: f"MOC-{100000 + n}")
    uploaded_date = factory.LazyFunction(timezone.now)
    tags = factory.LazyFunction(lambda: ["food", "vehicle"])

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:
            from mocs.services.mocs import moc_refresh_search_vector

            moc_refresh_search_vector(moc_id=instance.pk)


class SetFactory(MocFactory):
    type = "set"
    title = factory.Sequence(lambda n: f"Modular Building {n}")
    author = None
    parts_count = None
    uploaded_date = None
    brand = "LEGO"
    theme = "Creator Expert"
    set_number = factory.Sequence(lambda n: str(10200 + n))
    release_year = 2020
    retired = False


class MocFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MocFile

    moc = factory.SubFactory(MocFactory)
    file_type = MocFileType.INSTRUCTION
    file_url = factory.LazyAttribute(lambda o: f"mocs/{o.moc.user_id}/{o.moc.id}/{o.id}.pdf")
    original_filename = "instructions.pdf"
    mime_type = "application/pdf"
    file_size = 1234
    status = MocFileStatus.READY
    id = factory.Faker("uuid4", cast_to=None)


class MocPartsListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MocPartsList

    moc = factory.SubFactory(MocFactory)
    title = factory.Sequence(lambda n: f"Parts List {n}")
    status = PartsListStatus.READY
    format = "manual"


class MocPartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MocPart

    parts_list = factory.SubFactory(MocPartsListFactory)
    part_id = factory.Sequence(lambda n: f"{3000 + n}")
    part_name = "Brick 2 x 4"
    color = "Red"
    quantity = 2
    line_number = factory.Sequence(lambda n: n + 2)


class GalleryAlbumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GalleryAlbum

    user_id = "user-1"
    title = factory.Sequence(lambda n: f"Castle Builds {n}")
    description = "Photos of the castle, stage by stage."


class GalleryImageFactory(factory.django.DjangoModelFactory):
    """A `ready` image row (its objects are not written: tests that need them upload through G1)."""

    class Meta:
        model = GalleryImage

    id = factory.Faker("uuid4", cast_to=None)
    user_id = "user-1"
    title = factory.Sequence(lambda n: f"Castle Gate {n}")
    description = "The gatehouse with its portcullis."
    tags = factory.LazyFunction(lambda: ["castle", "medieval"])
    image_url = factory.LazyAttribute(lambda o: gallery_image_key(o.user_id, o.id))
    thumbnail_url = factory.LazyAttribute(lambda o: gallery_thumbnail_key(o.user_id, o.id))
    processing_status = ProcessingStatus.READY

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:
            from gallery.services.images import image_refresh_search_vector

            image_refresh_search_vector(image_id=instance.pk)


class GalleryFlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GalleryFlag

    image = factory.SubFactory(GalleryImageFactory)
    user_id = "user-2"
    reason = "Not a LEGO build"
