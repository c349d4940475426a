"""Gallery routes (SPEC §4.3), mounted under `/api/`. The router puts literal segments before ids, and ids match UUIDs
only, so `images/search` never reaches `images/{id}`."""

from gallery.views import albums, feed, images
from lego_api.core.routers import Router

router = Router()
router.register("images", images.GalleryImageViewSet, basename="image")  # G1, G2; G3 (search); G4-G6; G7 (flag)
router.add("flag", images.FlagAliasView.as_view(), "image-flag-alias")  # G8
router.register("albums", albums.GalleryAlbumViewSet, basename="album")  # G9, G10 (album-list); G11-G13
router.add("gallery", feed.GalleryFeedView.as_view(), "gallery-feed")  # G14

urlpatterns = router.urls
