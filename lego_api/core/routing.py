"""URL helpers: every route takes an optional trailing slash with no redirect; path ids match UUIDs only (§1.6)."""

from __future__ import annotations

from django.urls import re_path

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def route(pattern: str, view, name: str):
    """`route("mocs/{id}/files", view, "...")`: `{x}` placeholders become UUID groups; a trailing slash is optional."""
    regex = pattern
    while "{" in regex:
        start = regex.index("{")
        end = regex.index("}", start)
        regex = f"{regex[:start]}(?P<{regex[start + 1 : end]}>{UUID}){regex[end + 1 :]}"
    return re_path(rf"^{regex}/?$", view, name=name)
