"""MOC routes (SPEC §4.2), mounted under `/api/`. The router puts literal segments before ids, and ids match UUIDs
only, so `mocs/search` never reaches `mocs/{id}`."""

from lego_api.core.routers import Router
from mocs.views import files, links, mocs, parts_lists

router = Router()
router.register("mocs", mocs.MocViewSet, basename="moc")  # M1, M2 (moc-list); M4, M5, M6 (moc-detail)
router.add("mocs/search", mocs.MocSearchView.as_view(), "moc-search")  # M3
router.add("mocs/stats/by-category", mocs.StatsByCategoryView.as_view(), "moc-stats-by-category")  # M27
router.add("mocs/stats/uploads-over-time", mocs.StatsUploadsOverTimeView.as_view(), "moc-stats-uploads")  # M28
router.add("mocs/parts-lists/summary", mocs.PartsListSummaryView.as_view(), "moc-parts-lists-summary")  # M26
router.add("mocs/with-files", files.MocCreateWithFilesView.as_view(), "moc-create-with-files")  # M7
router.add("mocs/with-files/initialize", files.MocInitializeView.as_view(), "moc-initialize")  # M8
router.add(
    "mocs/upload-parts-list", parts_lists.UploadPartsListAliasView.as_view(), "moc-upload-parts-list-alias"
)  # M18
router.add("mocs/{id}/files/initialize", files.FilesInitializeView.as_view(), "moc-files-initialize")  # M9
router.add("mocs/{id}/finalize", files.FinalizeView.as_view(), "moc-finalize")  # M10
router.add("mocs/{id}/files", files.FileUploadView.as_view(), "moc-files")  # M11
router.add("mocs/{id}/files/{file_id}", files.FileDeleteView.as_view(), "moc-file-delete")  # M12
router.add("mocs/{id}/files/{file_id}/download", files.FileDownloadView.as_view(), "moc-file-download")  # M13
router.add("mocs/{id}/gallery-images", links.MocGalleryImagesView.as_view(), "moc-gallery-images")  # M14, M15
router.add(
    "mocs/{id}/gallery-images/{gallery_image_id}", links.MocGalleryImageUnlinkView.as_view(), "moc-gallery-image"
)  # M16
router.add("mocs/{id}/upload-parts-list", parts_lists.UploadPartsListView.as_view(), "moc-upload-parts-list")  # M17
router.add("mocs/{id}/parts-lists", parts_lists.PartsListCollectionView.as_view(), "moc-parts-lists")  # M19, M20
router.add(
    "mocs/{id}/parts-lists/{pl_id}", parts_lists.PartsListDetailView.as_view(), "moc-parts-list"
)  # M21, M23, M25
router.add("mocs/{id}/parts-lists/{pl_id}/parts", parts_lists.PartsView.as_view(), "moc-parts")  # M22
router.add(
    "mocs/{id}/parts-lists/{pl_id}/status", parts_lists.PartsListStatusView.as_view(), "moc-parts-list-status"
)  # M24

urlpatterns = router.urls
