"""factory_boy factory for wishlist rows (rows only; uploaded images are written by the tests that need them)."""

from __future__ import annotations

import factory

from wishlist.models import WishlistItem


class WishlistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WishlistItem

    user_id = "user-1"
    title = factory.Sequence(lambda n: f"Modular Bakery {n}")
    description = "A corner building with a bakery on the ground floor."
    product_link = "https://www.lego.com/en-us/product/10243"
    category = "Modular"
    sort_order = factory.Sequence(lambda n: n)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        super()._after_postgeneration(instance, create, results)
        if create:
            from wishlist.services import refresh_search_vector

            refresh_search_vector(item_id=instance.pk)
