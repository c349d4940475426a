"""URL helpers: every route takes an optional trailing slash with no redirect; path ids match UUIDs only (§1.6),
except a placeholder marked `:text` (`users/{id:text}`, SPEC §1.6's exception: one opaque segment)."""

from __future__ import annotations

import re

from django.urls import re_path

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(:text)?\}")
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
TEXT_SEGMENT = r"[^/]+"


def route(pattern: str, view, name: str):
    """`route("mocs/{id}/files", view, "...")`: `{x}` placeholders become UUID groups, `{x:text}` any one non-empty
    path segment (the view decides what it names); a trailing slash is optional."""
    regex = _PLACEHOLDER.sub(lambda m: f"(?P<{m.group(1)}>{TEXT_SEGMENT if m.group(2) else UUID})", pattern)
    return re_path(rf"^{regex}/?$", view, name=name)


def schema_paths_without_trailing_slash(endpoints: list[tuple]) -> list[tuple]:
    """drf-spectacular preprocessing hook: document `route()`'s optional slash as the bare path SPEC §4 uses."""
    return [(path.rstrip("/") or "/", regex, method, callback) for path, regex, method, callback in endpoints]
