"""The OpenAPI rules of SPEC §4.1 C3, generated from the code: every operation's error responses, the security
alternatives and the §1.6 path parameter names. Set as DRF's DEFAULT_SCHEMA_CLASS; hooks are in SPECTACULAR_SETTINGS.

A view states only what the route cannot show, in `declared_errors` (per method, e.g. `{"POST": (409,)}` where
SPEC §4 lists a conflict); everything else follows from the route, its authentication and its parameters.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import EndpointEnumerator
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.views import APIView

from lego_api.core import exceptions, ratelimit, schema
from lego_api.core.authentication import TOKEN_COOKIE
from lego_api.core.casing import to_camel
from lego_api.core.routing import UUID

CSRF_HEADER_NAME = "X-CSRF-Token"  # SPEC §2.3
ERROR_COMPONENT = "ErrorEnvelope"
_SAMPLE_ID = "00000000-0000-4000-8000-000000000000"
_PATH_VARIABLE = re.compile(r"\{(\w+)\}")
_UUID_GROUP = re.compile(r"\(\?P<(\w+)>" + re.escape(UUID) + r"\)")
_GROUP_NAME = re.compile(r"\(\?P<(\w+)>")

# Why each status can happen; an operation's description lists the reasons that apply to it.
REASON_BODY = "A malformed body (BAD_REQUEST) or a field rule (VALIDATION_ERROR, with `details.fields`)."
REASON_QUERY = "A query parameter breaks its rule (VALIDATION_ERROR, with `details.fields`)."
REASON_AUTH = "Missing, invalid or expired token (UNAUTHORIZED)."
REASON_OWNER = "The resource belongs to another user (FORBIDDEN)."
REASON_CSRF = "Cookie authentication without a valid `X-CSRF-Token` or origin (FORBIDDEN, `details.reason`)."
REASON_MISSING = "The resource does not exist, or the id is not a UUID (NOT_FOUND)."
REASON_TOO_LARGE = "The body or a file is over its limit (PAYLOAD_TOO_LARGE)."
REASON_MEDIA_TYPE = "Wrong `Content-Type`, or a file type the route does not take (UNSUPPORTED_MEDIA_TYPE)."
REASON_RATE = "Rate limit reached (TOO_MANY_REQUESTS); see `Retry-After`."
REASON_IDENTITY = "The identity provider is unavailable (SERVICE_UNAVAILABLE)."
DECLARED_REASONS = {
    403: REASON_OWNER,
    404: REASON_MISSING,
    409: "A uniqueness rule or a per-MOC cap (CONFLICT).",
    503: "A dependency is unavailable (SERVICE_UNAVAILABLE).",
}
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds until the window resets."}},
}


def _error_types() -> list[str]:
    """Every `error.type` the API sends (SPEC §1.2), ordered by status: the ApiError classes say which."""
    found: dict[str, int] = {}
    pending = [exceptions.ApiError]
    while pending:
        cls = pending.pop()
        found[cls.error_type] = cls.status_code
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda name: (found[name], name))


def error_envelope_schema() -> dict[str, Any]:
    """The SPEC §1.1 error envelope."""
    return {
        "type": "object",
        "properties": {
            "success": {"type": "boolean", "description": "Always `false`."},
            "error": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": _error_types()},
                    "message": {"type": "string"},
                    "details": {
                        "type": "object",
                        "additionalProperties": {},
                        "description": "`fields` (field -> messages) and other details; never on a 500.",
                    },
                },
                "required": ["type", "message"],
            },
            "timestamp": {"type": "string", "format": "date-time"},
            "requestId": {"type": "string"},
        },
        "required": ["success", "error", "timestamp", "requestId"],
    }


def _sample_request(method: str, path: str) -> HttpRequest:
    request = HttpRequest()
    request.method = method
    request.path = request.path_info = _PATH_VARIABLE.sub(_SAMPLE_ID, path)
    return request


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema plus the C3 error responses and the §1.6 path parameters."""

    def get_operation_id(self) -> str:
        """drf-spectacular's id without the `api` segment every route shares: `mocs_list`, `mocs_partial_update`,
        `mocs_stats_by_category_retrieve` (a view's explicit `operation_id` wins)."""
        return super().get_operation_id().removeprefix("api_")

    def is_public(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())

    def error_reasons(self, operation: dict[str, Any]) -> dict[int, list[str]]:
        """SPEC §4.1 C3: which error statuses this operation documents, each with its reasons."""
        reasons: dict[int, list[str]] = {}

        def add(status: int, reason: str) -> None:
            if reason not in reasons.setdefault(status, []):
                reasons[status].append(reason)

        public = self.is_public()
        has_body = "requestBody" in operation
        if not public:
            add(401, REASON_AUTH)
            add(503, REASON_IDENTITY)
        if ratelimit.categories_for(_sample_request(self.method, self.path)):
            add(429, REASON_RATE)
        if has_body:
            add(400, REASON_BODY)
            add(413, REASON_TOO_LARGE)
            add(415, REASON_MEDIA_TYPE)
        if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            add(400, REASON_QUERY)
        if _PATH_VARIABLE.search(self.path):
            add(403, REASON_OWNER)
            add(404, REASON_MISSING)
        if self.method not in SAFE_METHODS and not public:
            add(403, REASON_CSRF)
        for status in getattr(self.view, "declared_errors", {}).get(self.method, ()):
            add(status, DECLARED_REASONS[status])
        return reasons

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        component = ResolvedComponent(
            name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, object=ERROR_COMPONENT, schema=error_envelope_schema()
        )
        self.registry.register_on_missing(component)
        if "requestBody" in operation:
            operation["requestBody"]["required"] = True  # SPEC §1.8: a route that takes a body needs one
        responses = operation["responses"]
        for status, reasons in sorted(self.error_reasons(operation).items()):
            response: dict[str, Any] = {
                "content": {"application/json": {"schema": component.ref}},
                "description": " ".join(reasons),
            }
            if status in ERROR_HEADERS:
                response["headers"] = ERROR_HEADERS[status]
            responses[str(status)] = response
        return operation

    def _get_parameters(self) -> list[dict[str, Any]]:
        """Path parameters under their SPEC §1.6 names, UUIDs where the route takes only UUIDs; a parameter a view
        declared under its URL keyword name (`pl_id`) merges with the generated one (`plId`)."""
        uuid_names = set(_UUID_GROUP.findall(self.path_regex))
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for parameter in super()._get_parameters():
            if parameter["in"] == OpenApiParameter.PATH:
                parameter = {**parameter, "name": to_camel(parameter["name"])}
                if parameter["name"] in uuid_names:
                    parameter["schema"] = {"type": "string", "format": "uuid"}
            key = (parameter["name"], parameter["in"])
            merged[key] = {**parameter, **merged.get(key, {})}  # the first (declared) one keeps its description
        return sorted(merged.values(), key=lambda parameter: parameter["name"])


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """SPEC §2.2/§2.3: a Bearer token, or the `token` cookie, which on unsafe methods needs the CSRF header too."""

    target_class = "lego_api.core.authentication.TokenAuthentication"
    name = ["bearerAuth", "cookieAuth", "csrfHeader"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": TOKEN_COOKIE},
            {"type": "apiKey", "in": "header", "name": CSRF_HEADER_NAME},
        ]

    def get_security_requirement(self, auto_schema):
        if auto_schema.method in SAFE_METHODS:
            return [{"bearerAuth": []}, {"cookieAuth": []}]
        return [{"bearerAuth": []}, {"cookieAuth": [], "csrfHeader": []}]


# --- Preprocessing hooks ---------------------------------------------------------------------------------------


def camel_case_path_parameters(endpoints: list[tuple]) -> list[tuple]:
    """`{file_id}` -> `{fileId}` in paths and in the regex groups behind them, so the document names path
    parameters as SPEC §1.6 does while the views keep Python keyword names."""

    def rename(text: str, pattern: re.Pattern, template: str) -> str:
        return pattern.sub(lambda match: template.format(to_camel(match.group(1))), text)

    return [
        (rename(path, _PATH_VARIABLE, "{{{}}}"), rename(regex, _GROUP_NAME, "(?P<{}>"), method, callback)
        for path, regex, method, callback in endpoints
    ]


COMPONENT_STATUS = inline_serializer(
    "HealthComponent",
    {
        "status": serializers.ChoiceField(choices=["up", "down", "disabled"]),
        "latency_ms": serializers.IntegerField(),
        "error": serializers.CharField(required=False, help_text="The exception class name only."),
    },
)


class HealthSchemaView(APIView):
    """Describes C1 (a plain Django view, so that it answers without DRF) for the document; never routed."""

    authentication_classes = []
    permission_classes = [AllowAny]
    declared_errors = {"GET": (503,)}  # SPEC §7.1: unhealthy

    @extend_schema(
        operation_id="health",
        summary="Health of the API and its dependencies (C1)",
        parameters=[
            OpenApiParameter(
                "shallow", OpenApiTypes.BOOL, description="`true`: answer `alive` without checking dependencies."
            )
        ],
        responses={
            200: inline_serializer(
                "HealthEnvelope",
                {
                    "success": serializers.BooleanField(),
                    "data": inline_serializer(
                        "Health",
                        {
                            "status": serializers.ChoiceField(choices=["healthy", "degraded", "alive"]),
                            "version": serializers.CharField(),
                            "environment": serializers.CharField(required=False),
                            "components": serializers.DictField(child=COMPONENT_STATUS, required=False),
                        },
                    ),
                    "timestamp": serializers.DateTimeField(),
                },
            )
        },
        tags=["health"],
    )
    def get(self, request):  # pragma: no cover - schema only
        raise NotImplementedError


PLAIN_VIEW_SCHEMAS = {"health": HealthSchemaView}  # URL name -> the APIView that describes it


def _url_patterns(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _url_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def document_plain_views(endpoints: list[tuple]) -> list[tuple]:
    """Add the plain Django views of `PLAIN_VIEW_SCHEMAS` at the paths where the URLconf mounts them."""
    enumerator = EndpointEnumerator()
    added = []
    for regex, pattern in _url_patterns(get_resolver().url_patterns):
        view = PLAIN_VIEW_SCHEMAS.get(pattern.name)
        if view is not None:
            added += [(enumerator.get_path_from_regex(regex), regex, "GET", view.as_view())]
    return endpoints + added


# The views' schema classes were made from `lego_api.core.schema.AutoSchema` (DEFAULT_SCHEMA_CLASS, kept light for the
# cold start): from now on it is this AutoSchema, and so is every subclass `@extend_schema` made of it.
if schema.AutoSchema.__bases__ != (AutoSchema,):
    schema.AutoSchema.__bases__ = (AutoSchema,)
    del schema.AutoSchema.method_mapping  # drf-spectacular's own, from here on
