"""Token verification for Cognito and the local dev issuer (SPEC §2.2): one code path, RS256 only, cached JWKS."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.cache import cache
from jwt.algorithms import RSAAlgorithm

from lego_api.core.exceptions import ServiceUnavailable, Unauthorized

logger = logging.getLogger("lego_api.auth")

JWKS_CACHE_TTL = 6 * 3600
JWKS_REFETCH_INTERVAL = 60
JWKS_FETCH_TIMEOUT = 2


def invalid_token() -> Unauthorized:
    return Unauthorized("Invalid token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


# --- local issuer key pair ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalKey:
    private_key: Any
    public_key: Any
    kid: str
    public_jwk: dict[str, Any]


def _make_local_key(private_pem: bytes) -> LocalKey:
    private = serialization.load_pem_private_key(private_pem, password=None)
    public = private.public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = hashlib.sha256(der).hexdigest()[:16]
    jwk = json.loads(RSAAlgorithm.to_jwk(public))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return LocalKey(private_key=private, public_key=public, kid=kid, public_jwk=jwk)


def generate_private_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@lru_cache(maxsize=1)
def local_key() -> LocalKey:
    """The local issuer's key pair: LOCAL_JWT_PRIVATE_KEY, else the git-ignored key file (created on first use)."""
    if settings.LOCAL_JWT_PRIVATE_KEY:
        return _make_local_key(settings.LOCAL_JWT_PRIVATE_KEY.encode())
    path = Path(settings.LOCAL_JWT_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = generate_private_pem()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    return _make_local_key(path.read_bytes())


# --- trusted issuers ---------------------------------------------------------------------------------------------


@dataclass
class RemoteJwks:
    """A remote JWKS, cached in process memory and in the shared cache; refetched at most once a minute."""

    issuer: str
    url: str
    keys: dict[str, Any] = field(default_factory=dict)
    loaded_at: float = float("-inf")
    last_refetch: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cache_key(self) -> str:
        return f"auth:jwks:{hashlib.sha256(self.issuer.encode()).hexdigest()[:16]}"

    def _fetch(self) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(self.url, timeout=JWKS_FETCH_TIMEOUT) as response:  # noqa: S310 (https/loopback URL from settings)
                document = json.loads(response.read())
        except (OSError, ValueError) as exc:
            logger.warning("jwks fetch failed", extra={"errorType": type(exc).__name__, "issuer": self.issuer})
            raise ServiceUnavailable("Identity provider unavailable") from exc
        cache.set(self.cache_key, document, JWKS_CACHE_TTL)
        return document

    def _load(self, document: Any) -> None:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            logger.warning("jwks document malformed", extra={"issuer": self.issuer})
            raise ServiceUnavailable("Identity provider unavailable")
        keys = {}
        for jwk in document["keys"]:
            if isinstance(jwk, dict) and jwk.get("kty") == "RSA" and isinstance(jwk.get("kid"), str):
                try:
                    keys[jwk["kid"]] = RSAAlgorithm.from_jwk(json.dumps(jwk))
                except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                    logger.warning("jwks key skipped: malformed", extra={"issuer": self.issuer})
        self.keys = keys
        self.loaded_at = time.monotonic()

    def key_for(self, kid: str):
        with self.lock:
            if not self.keys or time.monotonic() - self.loaded_at >= JWKS_CACHE_TTL:
                # The process copy expires like the shared one, so a key removed from the JWKS stops being trusted.
                document = cache.get(self.cache_key) or self._fetch()
                self._load(document)
            if kid not in self.keys and time.monotonic() - self.last_refetch >= JWKS_REFETCH_INTERVAL:
                # An unknown kid may be a rotated key: refetch, but at most once a minute per process.
                self.last_refetch = time.monotonic()
                self._load(self._fetch())
            return self.keys.get(kid)


@dataclass
class Issuer:
    issuer: str
    client_id: str
    jwks: RemoteJwks | None = None

    def key_for(self, kid: str):
        if self.jwks is not None:
            return self.jwks.key_for(kid)
        key = local_key()
        return key.public_key if kid == key.kid else None


_remote_jwks: dict[tuple[str, str], RemoteJwks] = {}


def trusted_issuers() -> dict[str, Issuer]:
    issuers: dict[str, Issuer] = {}
    if settings.COGNITO_ISSUER and settings.COGNITO_JWKS_URL and settings.COGNITO_APP_CLIENT_ID:
        ident = (settings.COGNITO_ISSUER, settings.COGNITO_JWKS_URL)
        jwks = _remote_jwks.setdefault(ident, RemoteJwks(issuer=ident[0], url=ident[1]))
        issuers[settings.COGNITO_ISSUER] = Issuer(settings.COGNITO_ISSUER, settings.COGNITO_APP_CLIENT_ID, jwks)
    if settings.LOCAL_AUTH_ENABLED:
        issuers[settings.LOCAL_JWT_ISSUER] = Issuer(settings.LOCAL_JWT_ISSUER, settings.LOCAL_JWT_CLIENT_ID)
    return issuers


def verify_token(token: str) -> dict[str, Any]:
    """Verify a JWT against the trusted issuers; return its claims or raise 401 (`Invalid token`/`Token expired`)."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise invalid_token() from None
    if header.get("alg") != "RS256" or not header.get("kid") or not isinstance(unverified, dict):
        raise invalid_token()
    claimed_issuer = unverified.get("iss")
    issuer = trusted_issuers().get(claimed_issuer) if isinstance(claimed_issuer, str) else None
    if issuer is None:
        raise invalid_token()
    key = issuer.key_for(str(header["kid"]))
    if key is None:
        raise invalid_token()
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=issuer.issuer,
            leeway=settings.JWT_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "iss"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Token expired", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    except jwt.PyJWTError:
        raise invalid_token() from None
    token_use = claims.get("token_use")
    if token_use == "id":
        audience = claims.get("aud")
        if audience != issuer.client_id and not (isinstance(audience, list) and issuer.client_id in audience):
            raise invalid_token()
    elif token_use == "access":
        if claims.get("client_id") != issuer.client_id:
            raise invalid_token()
    else:
        raise invalid_token()
    if not isinstance(claims.get("sub"), str) or not claims["sub"].strip() or len(claims["sub"]) > 255:
        raise invalid_token()
    return claims


def mint_local_token(
    user_id: str, *, email: str | None = None, name: str | None = None, token_use: str = "id", ttl: int = 3600
) -> str:
    """A token from the local dev issuer (SPEC §2.2 `devtoken`); refused unless local auth is on."""
    from django.core.exceptions import ImproperlyConfigured

    if settings.IS_PRODUCTION or not settings.LOCAL_AUTH_ENABLED:
        raise ImproperlyConfigured("The local token issuer is disabled")
    key = local_key()
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user_id,
        "iss": settings.LOCAL_JWT_ISSUER,
        "token_use": token_use,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
    }
    claims["aud" if token_use == "id" else "client_id"] = settings.LOCAL_JWT_CLIENT_ID
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})
