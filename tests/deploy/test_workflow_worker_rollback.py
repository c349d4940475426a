"""`python -m tools.packaging deploy --stage prod --zips FOLDER --worker-only` (the deploy workflow's worker
rollback) run for real, ZappaCLI in this process and the `zappa` command in a subprocess, against the harness's
moto server: the worker function gets exactly the zip in the folder, nothing is built and no migration runs.

Only Zappa's first deploy (`zappa deploy --zip`) can run on moto: `zappa update` lists the function's URL
configurations, an API moto's server does not serve (404). The rollback in the workflow is an update; it differs
from this path only in the Zappa command that receives the same `--zip` argument."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path

import boto3
import pytest

from tools.packaging.deploy import deploy

REGION = "us-east-1"
WORKER = "lego-api-prod-worker"


def release(folder: Path, marker: str) -> bytes:
    """`lego-api-prod-worker.zip` of one release in `folder` (Zappa's settings module naming the stage, and a handler
    telling the releases apart); returns its bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("zappa_settings.py", "API_STAGE='prod-worker'\nPROJECT_NAME='lego-api'\n")
        archive.writestr("handler.py", f"def lambda_handler(event, context):\n    return {marker!r}\n")
    (folder / f"{WORKER}.zip").write_bytes(buffer.getvalue())
    return buffer.getvalue()


def code_sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture
def moto_aws(services, monkeypatch):
    """Every AWS client of this process and of the `zappa` subprocess talks to the harness's moto server."""
    moto_url = os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]
    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("lambda", region_name=REGION, endpoint_url=moto_url)
    yield client
    try:
        client.delete_function(FunctionName=WORKER)
    except client.exceptions.ResourceNotFoundException:
        pass


def test_the_worker_is_deployed_from_the_folders_zip(moto_aws, tmp_path):
    previous = release(tmp_path / "previous-packages", "release 1")
    release(tmp_path / "packages", "release 2")
    deploy("prod", tmp_path / "previous-packages", worker_only=True)
    function = moto_aws.get_function(FunctionName=WORKER)["Configuration"]
    assert function["CodeSha256"] == code_sha(previous)  # that very zip: nothing was built
    assert function["Timeout"] == 900  # the worker stage's settings from zappa_settings.json
    with pytest.raises(moto_aws.exceptions.ResourceNotFoundException):
        moto_aws.get_function(FunctionName="lego-api-prod")  # the API was left alone
