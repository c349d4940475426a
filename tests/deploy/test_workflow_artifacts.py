"""`make deploy STAGE=… ZIPS=folder` (the deploy workflow's way of shipping the packages its package job built):
each zip is taken from the folder, checked to be the stage's own, and every zip is checked before anything is
deployed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tools import packaging
from tools.packaging.deploy import deploy, prebuilt_zip


def package(folder: Path, stage: str, *, built_for: str | None = None) -> Path:
    """A zip shaped as `make package` writes it: Zappa's settings module naming the stage, at the root."""
    path = folder / f"lego-api-{stage}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("zappa_settings.py", f"API_STAGE='{built_for or stage}'\nPROJECT_NAME='lego-api'\n")
        archive.writestr("handler.py", "")
    return path


def test_the_stages_zip_is_taken_from_the_folder(tmp_path):
    expected = package(tmp_path, "staging")
    package(tmp_path, "staging-worker")
    assert prebuilt_zip("staging", tmp_path) == expected
    assert prebuilt_zip("staging-worker", tmp_path) == tmp_path / "lego-api-staging-worker.zip"


def test_a_missing_zip_is_named(tmp_path):
    with pytest.raises(packaging.PackagingError, match=r"lego-api-prod\.zip is missing \(make package STAGE=prod"):
        prebuilt_zip("prod", tmp_path)


def test_another_stages_zip_is_refused(tmp_path):
    """prod's zip renamed to staging's (or a worker's in the API's place) never lands on the wrong function."""
    package(tmp_path, "staging", built_for="prod")
    with pytest.raises(packaging.PackagingError, match="was not built for stage staging"):
        prebuilt_zip("staging", tmp_path)
    package(tmp_path, "prod", built_for="prod-worker")
    with pytest.raises(packaging.PackagingError, match="was not built for stage prod"):
        prebuilt_zip("prod", tmp_path)


def test_a_file_that_is_not_a_package_is_refused(tmp_path):
    (tmp_path / "lego-api-dev.zip").write_bytes(b"not a zip")
    with pytest.raises(packaging.PackagingError, match="is not a Lambda package built by make package"):
        prebuilt_zip("dev", tmp_path)


def test_every_zip_is_checked_before_anything_is_deployed(tmp_path):
    """The worker's zip is fine but the API's is missing: the deploy stops before the worker is touched (no AWS
    call is made: there are no credentials here, and one would fail differently)."""
    package(tmp_path, "staging-worker")
    with pytest.raises(packaging.PackagingError, match=r"lego-api-staging\.zip is missing"):
        deploy("staging", tmp_path)


def test_the_worker_alone_needs_only_its_own_zip(tmp_path):
    """`--worker-only` (the pipeline's worker rollback) checks only the worker's zip: here it is missing."""
    package(tmp_path, "prod")
    with pytest.raises(packaging.PackagingError, match=r"lego-api-prod-worker\.zip is missing"):
        deploy("prod", tmp_path, worker_only=True)


def test_the_command_line_takes_the_folder(tmp_path, capsys):
    from tools.packaging.cli import main

    assert main(["deploy", "--stage", "dev", "--zips", str(tmp_path)]) == 1
    assert "lego-api-dev-worker.zip is missing" in capsys.readouterr().err
