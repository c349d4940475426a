"""MOC routes (SPEC §4.2), mounted under `/api/`. The router puts literal segments before ids, and ids match UUIDs
only, so `mocs/search` never reaches `mocs/{id}`. The files', links' and parts lists' views are imported by the first
request for one of their routes (LazyView): a cold start serving the MOC list or a detail does not import them."""

from lego_api.core.routers import LazyView, Router
from mocs.views import mocs

router = Router()
router.register("mocs", mocs.MocViewSet, basename="moc")  # M1, M2 (moc-list); M4, M5, M6 (moc-detail)
router.add("mocs/search", mocs.MocSearchView.as_view(), "moc-search")  # M3
router.add("mocs/stats/by-category", mocs.StatsByCategoryView.as_view(), "moc-stats-by-category")  # M27
router.add("mocs/stats/uploads-over-time", mocs.StatsUploadsOverTimeView.as_view(), "moc-stats-uploads")  # M28
router.add("mocs/parts-lists/summary", mocs.PartsListSummaryView.as_view(), "moc-parts-lists-summary")  # M26
router.add("mocs/with-files", LazyView("mocs.views.files", "MocCreateWithFilesView"), "moc-create-with-files")  # M7
router.add("mocs/with-files/initialize", LazyView("mocs.views.files", "MocInitializeView"), "moc-initialize")  # M8
router.add(
    "mocs/upload-parts-list",
    LazyView("mocs.views.parts_lists", "UploadPartsListAliasView"),
    "moc-upload-parts-list-alias",
)  # M18
router.add(
    "mocs/{id}/files/initialize", LazyView("mocs.views.files", "FilesInitializeView"), "moc-files-initialize"
)  # M9
router.add("mocs/{id}/finalize", LazyView("mocs.views.files", "FinalizeView"), "moc-finalize")  # M10
router.add("mocs/{id}/files", LazyView("mocs.views.files", "FileUploadView"), "moc-files")  # M11
router.add("mocs/{id}/files/{file_id}", LazyView("mocs.views.files", "FileDeleteView"), "moc-file-delete")  # M12
router.add(
    "mocs/{id}/files/{file_id}/download", LazyView("mocs.views.files", "FileDownloadView"), "moc-file-download"
)  # M13
router.add(
    "mocs/{id}/gallery-images", LazyView("mocs.views.links", "MocGalleryImagesView"), "moc-gallery-images"
)  # M14, M15
router.add(
    "mocs/{id}/gallery-images/{gallery_image_id}",
    LazyView("mocs.views.links", "MocGalleryImageUnlinkView"),
    "moc-gallery-image",
)  # M16
router.add(
    "mocs/{id}/upload-parts-list", LazyView("mocs.views.parts_lists", "UploadPartsListView"), "moc-upload-parts-list"
)  # M17
router.add(
    "mocs/{id}/parts-lists", LazyView("mocs.views.parts_lists", "PartsListCollectionView"), "moc-parts-lists"
)  # M19, M20
router.add(
    "mocs/{id}/parts-lists/{pl_id}", LazyView("mocs.views.parts_lists", "PartsListDetailView"), "moc-parts-list"
)  # M21, M23, M25
router.add("mocs/{id}/parts-lists/{pl_id}/parts", LazyView("mocs.views.parts_lists", "PartsView"), "moc-parts")  # M22
router.add(
    "mocs/{id}/parts-lists/{pl_id}/status",
    LazyView("mocs.views.parts_lists", "PartsListStatusView"),
    "moc-parts-list-status",
)  # M24

urlpatterns = router.urls
