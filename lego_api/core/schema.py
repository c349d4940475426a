"""OpenAPI helpers: the success envelopes views describe their responses with, camelCase property names in the
generated schema (matching what the API sends and accepts), and C3's two routes. The C3 rules themselves are in
`lego_api.core.openapi`, which only a schema generation imports.

Cold start (tests/perf/bench_coldstart.py): nothing here imports drf-spectacular's generator. `AutoSchema` below is the
DEFAULT_SCHEMA_CLASS that the views' `@extend_schema` decorators subclass when their modules are imported; it becomes
the real one (`lego_api.core.openapi.AutoSchema`) when a generation imports that module. `GET /api/schema` serves the
document `make package` generated into the package (`openapi/`, the bytes `manage.py spectacular` writes) and
`GET /api/docs` imports drf-spectacular's Swagger UI view on its first request.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.schemas.inspectors import ViewInspector

from lego_api.core.casing import to_camel

# The response headers of a cached GET (SPEC §6.1), and of one that may search (SPEC §6.2), for `parameters=`.
CACHE_HEADERS = [
    OpenApiParameter("X-Cache", OpenApiTypes.STR, OpenApiParameter.HEADER, response=True, enum=["HIT", "MISS"])
]
SEARCH_HEADERS = [
    *CACHE_HEADERS,
    OpenApiParameter(
        "X-Search-Backend",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        enum=["opensearch", "postgres"],
        description="Which backend answered, when a search text was given.",
    ),
]


def _camelize_schema(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out[key] = {to_camel(name): _camelize_schema(prop) for name, prop in value.items()}
            elif key == "required" and isinstance(value, list):
                out[key] = [to_camel(name) if isinstance(name, str) else name for name in value]
            else:
                out[key] = _camelize_schema(value)
        return out
    if isinstance(node, list):
        return [_camelize_schema(item) for item in node]
    return node


def camelize_schema_hook(result: dict, generator, request, public) -> dict:
    components = result.get("components", {})
    if "schemas" in components:
        components["schemas"] = _camelize_schema(components["schemas"])
    return result


def envelope(
    serializer: type[serializers.BaseSerializer] | serializers.BaseSerializer | serializers.Field,
    *,
    many: bool = False,
    paginated: bool = False,
    total: bool = False,
    message: bool = False,
    name: str | None = None,
) -> serializers.Serializer:
    """The SPEC §1.1 success envelope around `serializer`, for `@extend_schema(responses=...)`.

    `paginated` adds `total`, `page`, `limit`, `totalPages` (a list); `total` alone is a non-paginated collection;
    `message` adds the route's message. `name` must be unique per shape (the default derives it from the class).
    """
    if isinstance(serializer, type):
        data = serializer(many=many or paginated)
        base = serializer.__name__.removesuffix("Serializer")
    else:
        data = serializer
        base = type(serializer).__name__.removesuffix("Serializer")
    fields: dict[str, serializers.Field] = {"success": serializers.BooleanField(), "data": data}
    if paginated:
        fields.update(
            total=serializers.IntegerField(),
            page=serializers.IntegerField(),
            limit=serializers.IntegerField(),
            total_pages=serializers.IntegerField(),
        )
    elif total:
        fields["total"] = serializers.IntegerField()
    if message:
        fields["message"] = serializers.CharField()
    fields["timestamp"] = serializers.DateTimeField()
    suffix = "Page" if paginated else "List" if many or total else ""
    name = name or f"{base}{suffix}{'Message' if message else ''}Envelope"
    # One class per component name: two different classes under one name would be a schema warning.
    if name not in _ENVELOPES:
        _ENVELOPES[name] = inline_serializer(name, fields)
    return _ENVELOPES[name]


_ENVELOPES: dict[str, serializers.Serializer] = {}


def update_operations(*, summary: str, route: str, description: str, request: Any, response: Any) -> dict[str, Any]:
    """The `partial_update` and `update` operations of a resource, for `extend_schema_view(**...)`: PATCH and PUT
    take the same partial body (SPEC §1.6), so they are one schema under two summaries, `{summary} ({route}; ...)`."""
    shared = {"description": description, "request": request, "responses": {200: response}}
    return {
        "partial_update": extend_schema(summary=f"{summary} ({route}; PATCH and PUT are both partial)", **shared),
        "update": extend_schema(summary=f"{summary} ({route}; PUT is an alias of PATCH)", **shared),
    }


# --- The schema class the decorators subclass ---------------------------------------------------------------------


class AutoSchema(ViewInspector):
    """DEFAULT_SCHEMA_CLASS: stands in for `lego_api.core.openapi.AutoSchema` until a document is generated.

    drf-spectacular's `@extend_schema` subclasses the default schema class when a view module is imported; naming
    the real AutoSchema there would import drf-spectacular's generator (and DRF's and Django's test clients, which it
    imports) in every cold start. This class carries only what the decorators read (`method_mapping`, as
    `extend_schema_view` reads it). Importing `lego_api.core.openapi` puts the real AutoSchema under it (see the end of
    that module), and every generation imports it first: its preprocessing hooks are named in SPECTACULAR_SETTINGS
    and drf-spectacular loads them before it builds a view's schema. The subclasses the decorators made follow.
    """

    method_mapping = {
        "get": "retrieve",
        "post": "create",
        "put": "update",
        "patch": "partial_update",
        "delete": "destroy",
    }


# --- C3: the document and Swagger UI --------------------------------------------------------------------------------

# What `manage.py spectacular` writes (`--format openapi` / `openapi-json`), served for `?format=` yaml/json.
DOCUMENT_FILES = {"yaml": "schema.yaml", "json": "schema.json"}
# Content types as DRF's Response writes them for drf-spectacular's renderers (the JSON renderer has no charset).
MEDIA_TYPES = {"yaml": "application/vnd.oai.openapi; charset=utf-8", "json": "application/vnd.oai.openapi+json"}
BUILD_INFO = "build.json"  # {"version": the document's info.version}
_documents: dict[str, dict[str, bytes]] = {}  # OPENAPI_DOCUMENT_DIR -> format -> bytes
_documents_lock = threading.Lock()


def build_documents(directory: Path) -> dict[str, Any]:
    """Write the document as `manage.py spectacular` does, in both formats, into `directory` (run by the package
    build inside the package tree; validated and refused on any warning, as `make schema` does)."""
    from django.core.management import call_command

    directory.mkdir(parents=True, exist_ok=True)
    call_command(
        "spectacular", format="openapi", file=str(directory / DOCUMENT_FILES["yaml"]), validate=True, fail_on_warn=True
    )
    call_command("spectacular", format="openapi-json", file=str(directory / DOCUMENT_FILES["json"]))
    info = {"version": settings.SPECTACULAR_SETTINGS["VERSION"]}
    (directory / BUILD_INFO).write_text(json.dumps(info))
    return info


def load_documents() -> dict[str, bytes]:
    """The built document's bytes by format, read once; empty when there is none or it was built for another
    version (the local tree, or an APP_VERSION set on the function): then drf-spectacular generates it per request."""
    directory = str(settings.OPENAPI_DOCUMENT_DIR)
    with _documents_lock:
        if directory not in _documents:
            _documents[directory] = _read_documents(Path(directory))
        return _documents[directory]


def _read_documents(directory: Path) -> dict[str, bytes]:
    try:
        info = json.loads((directory / BUILD_INFO).read_text())
        documents = {name: (directory / file).read_bytes() for name, file in DOCUMENT_FILES.items()}
    except (OSError, ValueError):
        return {}
    return documents if info.get("version") == settings.SPECTACULAR_SETTINGS["VERSION"] else {}


def _static_format(request: HttpRequest) -> str | None:
    """The format a plain GET asks for (none or `?format=yaml|json`); None for anything the generator must see."""
    if request.method not in ("GET", "HEAD") or set(request.GET) - {"format"}:
        return None
    requested = request.GET.get("format", "yaml")
    return requested if requested in DOCUMENT_FILES else None


@csrf_exempt
def schema_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """C3 `GET /api/schema`: the built document, with the headers drf-spectacular's view sends; anything else
    (another method, `?lang=`, `?version=`, no built document) goes to drf-spectacular's view."""
    kind = _static_format(request)
    body = load_documents().get(kind) if kind else None
    if body is None:
        return _spectacular_view("drf_spectacular.views.SpectacularAPIView")(request, *args, **kwargs)
    response = HttpResponse(body, content_type=MEDIA_TYPES[kind])
    response["Content-Disposition"] = f'inline; filename="{settings.SPECTACULAR_SETTINGS["TITLE"]}.{kind}"'
    response["Allow"] = "GET, HEAD, OPTIONS"
    response["Vary"] = "Accept"
    return response


@csrf_exempt
def docs_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """C3 `GET /api/docs`: drf-spectacular's Swagger UI (sidecar assets), imported on the first request."""
    return _spectacular_view("drf_spectacular.views.SpectacularSwaggerView", url_name="schema")(
        request, *args, **kwargs
    )


_views: dict[str, Any] = {}


def _spectacular_view(path: str, **initkwargs):
    view = _views.get(path)
    if view is None:
        import lego_api.core.openapi  # noqa: F401 - the real AutoSchema under the views' schema classes

        view = _views[path] = import_string(path).as_view(**initkwargs)
    return view


def warm_up() -> None:
    """Everything the C3 routes import or read on their first request (SnapStart: done before the snapshot)."""
    load_documents()
    _spectacular_view("drf_spectacular.views.SpectacularAPIView")
    _spectacular_view("drf_spectacular.views.SpectacularSwaggerView", url_name="schema")
