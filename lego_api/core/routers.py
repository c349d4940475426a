"""The router every app mounts its API with: DRF's SimpleRouter under the SPEC §1.6 path rules.

- ids in paths match UUIDs only (`{id}`, and `{file_id}`-style placeholders in an `@action`'s `url_path`), so a
  malformed id is an unknown route (404 `Route not found`); `{id:text}` takes any one segment instead (SPEC §1.6's
  exception, `users/{id:text}`: the view decides what it names);
- every path takes an optional trailing slash, with no redirect;
- literal segments come before ids (`mocs/search` before `mocs/{id}`), whatever the registration order;
- a method a path does not serve is 405 with `Allow` (DRF's view answers it from the methods it binds).

`register(prefix, viewset)` mounts a viewset's list and detail routes and its `@action`s; `add(pattern, view,
name)` mounts a plain view (an `APIView` for a route that is not CRUD) under the same rules, `view` given as
`SomeAPIView.as_view()` or as `LazyView("module", "SomeAPIView")` (imported by the first request it serves). Every
pattern is made by `lego_api.core.routing.route`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.urls import URLPattern
from rest_framework.routers import DynamicRoute, Route, SimpleRouter

from lego_api.core.routing import route


class LazyView:
    """`LazyView("mocs.views.files", "FileUploadView")`: that view's `as_view()`, its module imported by the first
    request the route serves or the first look at the view (Django's resolver, CSRF middleware and drf-spectacular
    read its attributes, SnapStart's warm-up its `cls`), not when the URL module is. A cold start serving another
    route of the same app does not pay for that module and what only it imports (issue 12 item 4)."""

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name
        self._view: Callable[..., Any] | None = None

    def resolve(self) -> Callable[..., Any]:
        if self._view is None:
            self._view = getattr(import_module(self._module), self._name).as_view()
        return self._view

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # only for what the instance itself lacks: the view's attributes
        if name in ("_module", "_name", "_view"):  # not yet set (copy, pickle): no import
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        return f"LazyView({self._module}.{self._name})"


def literal_first(pattern: str) -> tuple[bool, ...]:
    """Sort key: at the first segment where two patterns differ in kind, the literal one comes first."""
    return tuple(segment.startswith("{") for segment in pattern.split("/"))


class Router(SimpleRouter):
    """Patterns are written as `route()` takes them (`mocs/{id}/finalize`); `route()` makes the UUID groups and the
    optional slash. A viewset's lookup keyword is its `lookup_url_kwarg` (`id` by default)."""

    routes = [
        Route(
            url="{prefix}",
            mapping={"get": "list", "post": "create"},
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        DynamicRoute(url="{prefix}/{url_path}", name="{basename}-{url_name}", detail=False, initkwargs={}),
        Route(
            url="{prefix}/{lookup}",
            mapping={"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
            name="{basename}-detail",
            detail=True,
            initkwargs={"suffix": "Instance"},
        ),
        DynamicRoute(url="{prefix}/{lookup}/{url_path}", name="{basename}-{url_name}", detail=True, initkwargs={}),
    ]

    def __init__(self) -> None:
        super().__init__(trailing_slash=False)  # route() makes the slash optional
        self.plain_views: list[tuple[str, Callable[..., Any], str]] = []

    def add(self, pattern: str, view: Callable[..., Any], name: str) -> None:
        """Mount a plain view (`SomeAPIView.as_view()` or a `LazyView`) at `pattern`."""
        self.plain_views.append((pattern, view, name))

    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        """The lookup as a `route()` placeholder; route() makes it a UUID group (a viewset's lookup_value_regex is
        not used: SPEC §1.6 allows UUIDs only)."""
        return "{" + lookup_prefix + (getattr(viewset, "lookup_url_kwarg", None) or "id") + "}"

    def get_urls(self) -> list[URLPattern]:
        entries = list(self.plain_views)
        for prefix, viewset, basename in self.registry:
            lookup = self.get_lookup_regex(viewset)
            for viewset_route in self.get_routes(viewset):
                mapping = self.get_method_map(viewset, viewset_route.mapping)
                if not mapping:
                    continue
                pattern = viewset_route.url.format(prefix=prefix, lookup=lookup)
                initkwargs = {**viewset_route.initkwargs, "basename": basename, "detail": viewset_route.detail}
                view = viewset.as_view(mapping, **initkwargs)
                entries.append((pattern, view, viewset_route.name.format(basename=basename)))
        entries.sort(key=lambda entry: literal_first(entry[0]))
        return [route(pattern, view, name) for pattern, view, name in entries]
