"""SnapStart played on the packaged handler (lambda_runner.py's snapshot command): the init runs with
AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, the before-snapshot hooks run, the process forks, and the child runs the
after-restore hooks and serves. A fork is kinder than a real restore (it reseeds `random`, and redis-py resets its
pools in a new process), so this asserts what a real restore needs: before the snapshot no socket is open and one
thread runs; after it the copy serves with fresh connections and the secret as it is now, not as it was at init."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import pytest

from tests.deploy.conftest import PackagedLambda, api_event, lambda_env, moto_client, response_json


@pytest.fixture
def rotating_secret(services):
    client, moto_url = moto_client("secretsmanager")
    name = f"lego-api/restore-{uuid.uuid4().hex[:8]}"
    # The snapshot is taken with a database URL that no longer works (a rotated password, here a closed port).
    client.create_secret(
        Name=name,
        SecretString=json.dumps(
            {"SECRET_KEY": "key-at-init-" + uuid.uuid4().hex, "DATABASE_URL": "postgres://lego@127.0.0.1:9/stale"}
        ),
    )

    def rotate(values: dict[str, str]) -> None:
        client.put_secret_value(SecretId=name, SecretString=json.dumps(values))

    return name, moto_url, rotate


def test_a_restored_copy_serves_with_fresh_connections_and_the_secret_of_now(
    packaged_lambda, unzipped, issuer, rotating_secret
):
    secrets_id, moto_url, rotate = rotating_secret
    env = lambda_env(
        SECRETS_ID=secrets_id,
        SECRET_KEY=None,
        DATABASE_URL=None,
        AWS_ENDPOINT_URL_SECRETS_MANAGER=moto_url,
        AWS_LAMBDA_INITIALIZATION_TYPE="snap-start",
    )
    runner = PackagedLambda(unzipped, env)  # the init, secret read once
    try:
        new_key = "key-after-restore-" + uuid.uuid4().hex
        rotate({"SECRET_KEY": new_key, "DATABASE_URL": os.environ["DATABASE_URL"]})

        before, restored = runner.snapshot()

        assert before.ok, before.error
        assert before.result["hooks"] == 1
        assert before.result["sockets"] == []  # nothing open is copied into the snapshot
        assert before.result["threads"] == ["MainThread"]
        assert restored is not None and restored.ok, restored and restored.error
        assert restored.result["hooks"] == 1
        assert restored.result["pid"] != runner.process.pid
        assert restored.result["secret_key_sha256"] == hashlib.sha256(new_key.encode()).hexdigest()

        first = runner.invoke(api_event("GET", "/api/mocs", token=issuer.token("restored-user")))
        assert first.ok, first.error
        assert first.result["statusCode"] == 200, first.result  # the database URL of now, connected after the fork
        assert response_json(first)["data"] == []
    finally:
        runner.close()


XRAY = {
    "XRAY_ENABLED": "true",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9",  # UDP into the void
}


@pytest.mark.parametrize(
    ("snapstart", "xray"),
    [(True, False), (True, True), (False, False)],
    ids=["snapstart", "snapstart-xray-as-deployed", "control-without-hooks"],
)
def test_connections_opened_by_requests_before_the_snapshot_are_closed(
    packaged_lambda, unzipped, issuer, snapstart, xray
):
    """A primed init (requests served before the snapshot: database, Redis, JWKS fetch; with X-Ray, its emitter's UDP
    socket) leaves no socket either. The control, without SnapStart (no hooks registered), shows the check sees those
    connections."""
    variables = {**XRAY, "LAMBDA_TASK_ROOT": str(unzipped)} if xray else {}
    env = lambda_env(AWS_LAMBDA_INITIALIZATION_TYPE="snap-start" if snapstart else None, **variables)
    runner = PackagedLambda(unzipped, env)
    try:
        primed = runner.invoke(api_event("GET", "/api/mocs", token=issuer.token("primer")))
        assert primed.ok and primed.result["statusCode"] == 200, primed.result

        before, restored = runner.snapshot()

        assert before.ok, before.error
        if snapstart:
            assert before.result["hooks"] == 1
            assert before.result["sockets"] == []
            assert before.result["threads"] == ["MainThread"]
        else:
            assert before.result["hooks"] == 0
            assert before.result["sockets"] != []
        assert restored is not None and restored.ok, restored and restored.error
        again = runner.invoke(api_event("GET", "/api/mocs", token=issuer.token("after-restore")))
        assert again.ok and again.result["statusCode"] == 200, again.result
    finally:
        runner.close()
