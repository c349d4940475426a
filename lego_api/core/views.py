"""Small core views: C2 CSRF token and C4 JWKS."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from lego_api.core.csrf import CSRF_COOKIE, CSRF_MAX_AGE, TOKEN_RE
from lego_api.core.envelope import success
from lego_api.core.exceptions import MethodNotAllowed
from lego_api.core.jwt_keys import local_key


def jwks_view(request: HttpRequest) -> HttpResponse:
    """C4: the bare JWKS document (no envelope: JWKS clients expect this exact format)."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(f'Method "{request.method}" not allowed', headers={"Allow": "GET, HEAD"})
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
@api_view(["GET"])
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
