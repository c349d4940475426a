"""Wishlist routes (SPEC §4.4), mounted under `/api/`. The router puts literal segments before ids, and ids match
UUIDs only, so `wishlist/search` and `wishlist/reorder` never reach `wishlist/{id}`."""

from lego_api.core.routers import Router
from wishlist.views import WishlistViewSet

router = Router()
# W1, W2 (wishlist-list); W3 (wishlist-search); W4 (wishlist-reorder); W5-W7 (wishlist-detail); W8 (wishlist-image)
router.register("wishlist", WishlistViewSet, basename="wishlist")

urlpatterns = router.urls
