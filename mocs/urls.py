"""MOC routes (SPEC §4.2), mounted under `/api/`. Literal segments never collide with ids: ids match UUIDs only."""

from lego_api.core.routing import route
from mocs.views import files, mocs, parts_lists

urlpatterns = [
    route("mocs", mocs.MocListCreateView.as_view(), "moc-list"),  # M1, M2
    route("mocs/search", mocs.MocSearchView.as_view(), "moc-search"),  # M3
    route("mocs/stats/by-category", mocs.StatsByCategoryView.as_view(), "moc-stats-by-category"),  # M27
    route("mocs/stats/uploads-over-time", mocs.StatsUploadsOverTimeView.as_view(), "moc-stats-uploads"),  # M28
    route("mocs/parts-lists/summary", mocs.PartsListSummaryView.as_view(), "moc-parts-lists-summary"),  # M26
    route("mocs/with-files", files.MocCreateWithFilesView.as_view(), "moc-create-with-files"),  # M7
    route("mocs/with-files/initialize", files.MocInitializeView.as_view(), "moc-initialize"),  # M8
    route(
        "mocs/upload-parts-list", parts_lists.UploadPartsListAliasView.as_view(), "moc-upload-parts-list-alias"
    ),  # M18
    route("mocs/{id}", mocs.MocDetailView.as_view(), "moc-detail"),  # M4, M5, M6
    route("mocs/{id}/files/initialize", files.FilesInitializeView.as_view(), "moc-files-initialize"),  # M9
    route("mocs/{id}/finalize", files.FinalizeView.as_view(), "moc-finalize"),  # M10
    route("mocs/{id}/files", files.FileUploadView.as_view(), "moc-files"),  # M11
    route("mocs/{id}/files/{file_id}", files.FileDeleteView.as_view(), "moc-file-delete"),  # M12
    route("mocs/{id}/files/{file_id}/download", files.FileDownloadView.as_view(), "moc-file-download"),  # M13
    route("mocs/{id}/upload-parts-list", parts_lists.UploadPartsListView.as_view(), "moc-upload-parts-list"),  # M17
    route("mocs/{id}/parts-lists", parts_lists.PartsListCollectionView.as_view(), "moc-parts-lists"),  # M19, M20
    route(
        "mocs/{id}/parts-lists/{pl_id}", parts_lists.PartsListDetailView.as_view(), "moc-parts-list"
    ),  # M21, M23, M25
    route("mocs/{id}/parts-lists/{pl_id}/parts", parts_lists.PartsView.as_view(), "moc-parts"),  # M22
    route(
        "mocs/{id}/parts-lists/{pl_id}/status", parts_lists.PartsListStatusView.as_view(), "moc-parts-list-status"
    ),  # M24
]
