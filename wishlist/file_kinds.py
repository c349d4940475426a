"""The wishlist image kind (SPEC §5.1 row "Wishlist image", W8 `image`/`file`)."""

from lego_api.core.files import image_kind

WISHLIST_IMAGE = image_kind("wishlist-image", "wishlist image", 5)
