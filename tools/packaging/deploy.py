"""Deploying (`make deploy`: the *-worker stage first, migrations on it, then the API) and rolling back a SnapStart
stage (`make rollback`: its `snapstart` alias moved to an earlier published version)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from tools.packaging.build import build
from tools.packaging.stage import MAX_DIRECT_UPLOAD_BYTES, PROJECT_ROOT, PackagingError, load_stage


def _zappa(*args: str) -> None:
    command = [str(Path(sys.executable).parent / "zappa"), *args]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=PROJECT_ROOT, check=True)  # noqa: S603


def _is_deployed(cli) -> bool:
    import botocore.exceptions

    try:
        cli.zappa.lambda_client.get_function(FunctionName=cli.lambda_name)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True


def _zip_source(cli, zip_path: Path) -> str:
    """The local path, or an s3:// URL in the stage's s3_bucket (created if missing, as zappa does) when the zip is
    too big for a direct upload."""
    if zip_path.stat().st_size <= MAX_DIRECT_UPLOAD_BYTES:
        return str(zip_path)
    if not cli.zappa.upload_to_s3(str(zip_path), cli.s3_bucket_name):
        raise PackagingError(f"uploading {zip_path} to s3://{cli.s3_bucket_name} failed")
    return f"s3://{cli.s3_bucket_name}/{zip_path.name}"


def prebuilt_zip(stage: str, zips: Path) -> Path:
    """`ZIPS/lego-api-{stage}.zip`, a zip `make package STAGE={stage}` built earlier (the deploy pipeline's
    artifact), checked to be that stage's: its zappa_settings.py names the stage, so prod's zip never lands on
    staging."""
    zip_path = zips / f"lego-api-{stage}.zip"
    if not zip_path.is_file():
        raise PackagingError(f"{zip_path} is missing (make package STAGE={stage} builds it)")
    try:
        with zipfile.ZipFile(zip_path) as archive:
            settings = archive.read("zappa_settings.py").decode()
    except (zipfile.BadZipFile, KeyError) as exc:
        raise PackagingError(f"{zip_path} is not a Lambda package built by make package: {exc}") from None
    if f"API_STAGE='{stage}'" not in settings.replace('"', "'"):
        raise PackagingError(f"{zip_path} was not built for stage {stage}")
    return zip_path


def deploy_stage(stage: str, zips: Path | None = None) -> None:
    """`zappa deploy` the first time (creating Zappa's execution role when it manages roles), else `zappa update`,
    always from our own zip: built now, or taken from `zips` (built earlier) when given."""
    zip_path = prebuilt_zip(stage, zips) if zips is not None else build(stage).zip_path
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(PROJECT_ROOT / "zappa_settings.json"))
    source = _zip_source(cli, zip_path)
    if _is_deployed(cli):
        _zappa("update", stage, "--zip", source)
    else:
        if cli.manage_roles:
            cli.zappa.create_iam_roles()  # `zappa deploy --zip` skips this step
        _zappa("deploy", stage, "--zip", source)


def deploy(stage: str, zips: Path | None = None, *, worker_only: bool = False) -> None:
    """Worker first (it runs the migrations and must know the new code before the API dispatches to it), then
    `migrate` on the worker (900 s timeout rather than the API's 30 s), then the API stage. With `zips`, the zips
    come from that folder instead of a build; `worker_only` deploys the worker alone (no migration, no API: how the
    deploy pipeline puts the previous release's worker back)."""
    worker = f"{stage}-worker"
    if zips is not None:  # every zip checked before anything is deployed
        for name in (worker,) if worker_only else (worker, stage):
            prebuilt_zip(name, zips)
    deploy_stage(worker, zips)
    if worker_only:
        return
    _zappa("manage", worker, "migrate --noinput")
    deploy_stage(stage, zips)


# --- Rollback (SnapStart stages) --------------------------------------------------------------------------------

SNAPSTART_ALIAS = "snapstart"  # zappa.core.SNAPSTART_LAMBDA_ALIAS: API Gateway invokes it


def rollback_version(versions: Sequence[dict], current: str, steps: int = 1) -> str:
    """The published version `steps` code changes before `current` (versions as list_versions_by_function gives
    them). Zappa publishes twice per deploy under SnapStart (the code, then the configuration): versions with the
    same code count once, and of those the newest with SnapStart applied is taken."""
    if steps < 1:
        raise PackagingError("--steps must be 1 or more")
    published = sorted((v for v in versions if v["Version"] != "$LATEST"), key=lambda v: int(v["Version"]))
    by_number = {v["Version"]: v for v in published}
    if current not in by_number:
        raise PackagingError(f"the {SNAPSTART_ALIAS} alias points at version {current}, which no longer exists")
    current_code = by_number[current]["CodeSha256"]
    groups: dict[str, list[dict]] = {}  # code -> its versions, newest code first, newest version first
    for version in reversed(published):
        if int(version["Version"]) < int(current) and version["CodeSha256"] != current_code:
            groups.setdefault(version["CodeSha256"], []).append(version)
    older = list(groups.values())
    if len(older) < steps:
        raise PackagingError(f"only {len(older)} earlier code version(s) are kept; cannot go back {steps}")
    candidates = older[steps - 1]
    snapstarted = [v for v in candidates if v.get("SnapStart", {}).get("ApplyOn") == "PublishedVersions"]
    return (snapstarted or candidates)[0]["Version"]


def rollback(stage: str, steps: int = 1, *, lambda_client=None, log=print) -> str:
    """Point the stage's `snapstart` alias at an earlier published version: no upload (`zappa rollback` re-uploads
    the old code directly, which fails over 50 MB, and publishes a version that needs a new snapshot); the version
    keeps its snapshot. Returns the version now served."""
    cli = load_stage(stage)
    if cli.snap_start in (None, "None"):
        raise PackagingError(
            f"stage {stage} does not use SnapStart (it runs $LATEST): redeploy the earlier commit with make deploy"
        )
    if lambda_client is None:
        import boto3

        lambda_client = boto3.client("lambda", region_name=cli.aws_region)
    name = cli.lambda_name
    current = lambda_client.get_alias(FunctionName=name, Name=SNAPSTART_ALIAS)["FunctionVersion"]
    versions: list[dict] = []
    for page in lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName=name):
        versions.extend(page["Versions"])
    target = rollback_version(versions, current, steps)
    lambda_client.update_alias(FunctionName=name, Name=SNAPSTART_ALIAS, FunctionVersion=target)
    log(f"{name}:{SNAPSTART_ALIAS} now serves version {target} (was {current})")
    return target
