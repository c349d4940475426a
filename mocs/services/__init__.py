"""MOC services (HackSoft style `<entity>_<action>` functions): MOCs, their files and their parts lists."""

from mocs.services.mocs import (  # noqa: F401
    DUPLICATE_TITLE,
    moc_changed,
    moc_create,
    moc_delete,
    moc_detail_queryset,
    moc_get_owned,
    moc_recompute_total,
    moc_refresh_search_vector,
    moc_title_taken,
    moc_touch,
    moc_update,
)
