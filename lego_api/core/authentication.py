"""Who is calling: the auth *attempt* made early by the API gate middleware, and the DRF class that enforces it.

SPEC §2.1 orders the pipeline: the attempt happens before rate limiting (a failure is only noted), the 401 comes
from DRF's permission check, and CSRF is checked after that for cookie-authenticated unsafe requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication

from lego_api.core.csrf import UNSAFE_METHODS, enforce_csrf
from lego_api.core.exceptions import ApiError
from lego_api.core.jwt_keys import invalid_token, verify_token

TOKEN_COOKIE = "token"

# Called with every authenticated caller; the profiles app registers its profile mirror here (SPEC §2.2).
_authenticated_hooks: list[Callable[..., None]] = []


def register_authenticated_hook(hook: Callable[..., None]) -> None:
    """Run `hook(user=<TokenUser>)` after each successful authentication (an app's AppConfig.ready() registers it)."""
    if hook not in _authenticated_hooks:
        _authenticated_hooks.append(hook)


@dataclass
class TokenUser:
    """The verified caller. Not a database user: the id is the token's `sub` (SPEC §1.6)."""

    id: str
    claims: dict[str, Any] = field(default_factory=dict)
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    @property
    def pk(self) -> str:
        return self.id

    @property
    def token_use(self) -> str:
        return self.claims.get("token_use", "")

    def __str__(self) -> str:
        return self.id


@dataclass
class AuthResult:
    user: TokenUser | None = None
    error: ApiError | None = None
    source: str | None = None  # "header" or "cookie"


def attempt_authentication(request: HttpRequest) -> AuthResult:
    """Read the Bearer header (used alone when present) or the `token` cookie, and verify it."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            return AuthResult(error=invalid_token(), source="header")
        source = "header"
    else:
        token = request.COOKIES.get(TOKEN_COOKIE, "")
        if not token:
            return AuthResult()
        source = "cookie"
    try:
        claims = verify_token(token)
    except ApiError as exc:
        return AuthResult(error=exc, source=source)
    return AuthResult(user=TokenUser(id=claims["sub"], claims=claims), source=source)


def auth_result_for(request: HttpRequest) -> AuthResult:
    result = getattr(request, "auth_result", None)
    if result is None:
        result = attempt_authentication(request)
        request.auth_result = result
    return result


class TokenAuthentication(BaseAuthentication):
    """DRF authentication over the early attempt: raises its error, enforces CSRF, mirrors the profile."""

    def authenticate(self, request):
        django_request = request._request
        result = auth_result_for(django_request)
        if result.error is not None:
            raise result.error
        if result.user is None:
            return None
        if result.source == "cookie" and request.method in UNSAFE_METHODS:
            enforce_csrf(django_request)
        for hook in _authenticated_hooks:
            hook(user=result.user)
        return result.user, result.user.claims

    def authenticate_header(self, request) -> str:
        return "Bearer"
