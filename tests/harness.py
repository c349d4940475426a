"""The test session's real services, started once per run: PostgreSQL, Redis, SeaweedFS (S3), the OpenSearch
emulator, moto (Cognito admin APIs) and a JWKS endpoint with test keys. Each `*_URL`-style variable already set
in the environment replaces its service (SPEC §9)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.jwks import TEST_CLIENT_ID, TestIssuer, start_test_issuer
from tools import devstack


@dataclass
class Session:
    services: dict[str, devstack.Service]
    issuer: TestIssuer
    env: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> devstack.Service:
        try:
            return self.services[name]
        except KeyError:
            raise AttributeError(
                f"service {name!r} is not run by the harness (overridden by the environment?)"
            ) from None


_session: Session | None = None


def session() -> Session:
    """Start everything (first call only) and export the variables the settings read."""
    global _session
    if _session is not None:
        return _session
    # Every run gets its own services and data (a fresh cluster starts in under a second), so concurrent runs
    # never share a database; TEST_SERVICES_DIR keeps them somewhere fixed instead.
    fixed_root = os.environ.get("TEST_SERVICES_DIR")
    data_root = Path(fixed_root or tempfile.mkdtemp(prefix="lego-test-services-"))
    started = devstack.start_stack(data_root, full=True)
    if not fixed_root:
        atexit.register(shutil.rmtree, data_root, True)
    atexit.register(devstack.stop_all, started)
    issuer = start_test_issuer()
    atexit.register(issuer.close)
    env = {}
    for service in started:
        env.update(service.env)
    env.update(
        {
            "ENVIRONMENT": "local",
            "LOCAL_AUTH_ENABLED": "true",
            "COGNITO_ISSUER": issuer.issuer,
            "COGNITO_JWKS_URL": issuer.jwks_url,
            "COGNITO_APP_CLIENT_ID": TEST_CLIENT_ID,
            "COGNITO_USER_POOL_ID": "us-east-1_testpool",
            "TASKS_EAGER": "true",
            "RATE_LIMIT_ENABLED": "false",
            "LOCAL_JWT_KEY_FILE": str(data_root / "jwt-private-key.pem"),
            "MEDIA_ROOT": str(data_root / "media"),
            "OPENSEARCH_INDEX_PREFIX": "lego-test",
            "OPENSEARCH_REPLICAS": "0",
        }
    )
    for key, value in env.items():
        os.environ.setdefault(key, value)
    _session = Session(services={s.name: s for s in started}, issuer=issuer, env=env)
    return _session
