"""Static files (the admin's and Swagger UI's, collected into STATIC_ROOT by the package build): whitenoise, with its
reading of STATIC_ROOT done on the first request under STATIC_URL instead of at start.

whitenoise's middleware builds a responder for every collected file when it is created (a stat, the headers, the
manifest's hashed-name test per file), which every cold start paid although only the admin and /api/docs use them.
`StaticFilesMiddleware` records the directories whitenoise asks to add and reads them on the first request whose path
is under the static prefix (once, under a lock: a concurrent request waits for the whole table). SnapStart's
before-snapshot hook calls `read_all()`, so a restored copy has the table already.
"""

from __future__ import annotations

import threading
import weakref

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware

_instances: weakref.WeakSet[StaticFilesMiddleware] = weakref.WeakSet()


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def __init__(self, get_response=None, settings=settings) -> None:
        self._pending: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()
        self._reading = True  # whitenoise's own __init__ asks for its directories: recorded, not read
        try:
            super().__init__(get_response, settings)
        finally:
            self._reading = False
        _instances.add(self)

    def add_files(self, root, prefix=None) -> None:
        if self._reading:
            self._pending.append((root, prefix))
        else:
            super().add_files(root, prefix)

    def read_files(self) -> None:
        """Read the recorded directories into whitenoise's table (the first time only)."""
        if not self._pending:
            return
        with self._lock:
            for root, prefix in self._pending:
                super().add_files(root, prefix)
            self._pending = []  # only now: a request that sees an empty list finds the whole table

    def __call__(self, request):
        if self._pending and request.path_info.startswith(self.static_prefix):
            self.read_files()
        return super().__call__(request)


def read_all() -> None:
    """Read the static files of every StaticFilesMiddleware made so far (SnapStart's before-snapshot hook)."""
    for middleware in list(_instances):
        middleware.read_files()
