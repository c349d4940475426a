"""Small core views: the `/` index, C2 CSRF token and C4 JWKS, and `allow_methods` for plain Django views."""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from lego_api.core.csrf import CSRF_COOKIE, CSRF_MAX_AGE, TOKEN_RE
from lego_api.core.envelope import encode, finish_body, success
from lego_api.core.exceptions import MethodNotAllowed
from lego_api.core.jwt_keys import local_key


def allow_methods(*methods: str) -> Callable:
    """For plain Django views (not DRF): any other method is 405 in the envelope with `Allow` (SPEC §2.1 step 7a).

    HEAD comes with GET. The view is exempt from Django's CSRF check: these routes are not cookie-authenticated,
    and an unsafe method must reach the 405 rather than Django's HTML CSRF page.
    """
    allowed = {method.upper() for method in methods}
    if "GET" in allowed:
        allowed.add("HEAD")
    order = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    allow_header = ", ".join(sorted(allowed, key=lambda method: order.index(method) if method in order else 99))

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in allowed:
                raise MethodNotAllowed(f'Method "{request.method}" not allowed', headers={"Allow": allow_header})
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapped)

    return decorate


@allow_methods("GET")
def index_view(request: HttpRequest) -> HttpResponse:
    """`GET /`: where things are, for someone who opens the server's address (public, not rate limited)."""
    links = {"health": "/health", "docs": "/api/docs/", "schema": "/api/schema/", "csrf": "/api/csrf"}
    if settings.IS_LOCAL:  # deployed stages do not advertise the admin's path
        links["admin"] = f"/{settings.ADMIN_URL}"
    if settings.LOCAL_AUTH_ENABLED:
        links["jwks"] = "/.well-known/jwks.json"
    data = {
        "name": "LEGO Projects API",
        "version": settings.APP_VERSION,
        "environment": settings.ENVIRONMENT,
        "links": {name: request.build_absolute_uri(path) for name, path in links.items()},
    }
    return HttpResponse(encode(finish_body({"success": True, "data": data})), content_type="application/json")


@allow_methods("GET")
def jwks_view(request: HttpRequest) -> HttpResponse:
    """C4: the bare JWKS document (no envelope: JWKS clients expect this exact format)."""
    response = HttpResponse(json.dumps({"keys": [local_key().public_jwk]}), content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response


@extend_schema(
    summary="Issue a CSRF token (C2)",
    responses={
        200: inline_serializer(
            "CsrfTokenEnvelope",
            {
                "success": serializers.BooleanField(),
                "data": inline_serializer("CsrfToken", {"token": serializers.CharField()}),
                "timestamp": serializers.CharField(),
            },
        )
    },
)
@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([AllowAny])
def csrf_token_view(request: Request) -> Response:
    existing = request.COOKIES.get(CSRF_COOKIE, "")
    token = existing if TOKEN_RE.match(existing) else secrets.token_hex(32)
    response = success({"token": token})
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=CSRF_MAX_AGE,
        path="/",
        samesite="Lax",
        secure=settings.IS_PRODUCTION,
        httponly=False,
    )
    return response
