"""A Cognito-style token issuer for tests: RSA keys made here, a JWKS served on loopback, and token minting."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

TEST_CLIENT_ID = "test-app-client"


@dataclass
class TestIssuer:
    server: ThreadingHTTPServer
    keys: dict[str, Any] = field(default_factory=dict)  # kid -> private key, published in the JWKS
    requests: int = 0

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/test-pool"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    def add_key(self) -> str:
        kid = uuid.uuid4().hex[:16]
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, key in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
            out.append(jwk)
        return {"keys": out}

    def token(
        self,
        sub: str = "user-1",
        *,
        token_use: str = "id",
        kid: str | None = None,
        key: Any = None,
        lifetime: int = 3600,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": sub,
            "iss": self.issuer,
            "token_use": token_use,
            "iat": now,
            "exp": now + lifetime,
        }
        payload["aud" if token_use == "id" else "client_id"] = TEST_CLIENT_ID
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        kid = kid or next(iter(self.keys))
        signing_key = key or self.keys[kid]
        # Signed as bytes: jwt.encode (PyJWT >= 2.12) refuses to encode malformed claims, which tests need to send.
        body = json.dumps(payload, separators=(",", ":")).encode()
        return jwt.api_jws.encode(body, signing_key, algorithm="RS256", headers={"kid": kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_test_issuer() -> TestIssuer:
    holder: dict[str, TestIssuer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer = holder["issuer"]
            if self.path != "/test-pool/.well-known/jwks.json":
                self.send_error(404)
                return
            issuer.requests += 1
            body = json.dumps(issuer.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = TestIssuer(server=server)
    holder["issuer"] = issuer
    issuer.add_key()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return issuer
