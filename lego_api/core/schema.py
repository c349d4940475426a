"""OpenAPI helpers: camelCase property names in the generated schema, matching what the API sends and accepts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from lego_api.core.authentication import TOKEN_COOKIE
from lego_api.core.casing import to_camel


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


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "lego_api.core.authentication.TokenAuthentication"
    name = ["bearerAuth", "cookieAuth"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": TOKEN_COOKIE},
        ]
