"""OpenAPI helpers: the success envelopes views describe their responses with, and camelCase property names in the
generated schema, matching what the API sends and accepts. The C3 rules themselves are in `lego_api.core.openapi`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from lego_api.core.casing import to_camel

# Response headers of the cached GET routes (SPEC §6.1 `X-Cache`) and of those that may search (§6.2).
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
