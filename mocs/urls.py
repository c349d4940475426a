"""MOC routes (SPEC §4.2), mounted under `/api/`."""

urlpatterns: list = []
