"""Plain Zappa commands ship what `make package` builds (issue 13 item 5): zappa_settings.json's `callbacks` replace
Zappa's own zip with ours (tools/packaging/zappa_callback.py). A real `zappa package STAGE` in the project's
virtualenv, no AWS needed; the build's cached tree makes it a few seconds."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools import packaging

ZAPPA = Path(sys.executable).parent / "zappa"
BUILD_RECORD = "package_info.json"  # a new uuid and build time in every build, of the same length


def zappa_package(stage: str, output: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    result = subprocess.run(
        [str(ZAPPA), "package", stage, "-o", str(output)],
        cwd=packaging.PROJECT_ROOT,
        env={**env, "AWS_DEFAULT_REGION": "us-east-1"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def entries(path: Path) -> dict[str, tuple[int, int]]:
    """name -> (size, CRC-32) of every file in a zip."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: (info.file_size, info.CRC) for info in archive.infolist()}


@pytest.mark.parametrize("stage", ["dev", "dev-worker"])
def test_zappa_package_ships_exactly_what_make_package_builds(stage, tmp_path):
    ours = packaging.build(stage, output=tmp_path / "make-package.zip", log=lambda _m: None)
    output = zappa_package(stage, tmp_path / "zappa-package.zip")

    made_by_zappa = entries(tmp_path / "zappa-package.zip")
    made_by_make = entries(ours.zip_path)
    assert {name: size for name, (size, _) in made_by_zappa.items()} == {
        name: size for name, (size, _) in made_by_make.items()
    }
    # Byte for byte, but for the build record (its uuid and time).
    assert {k: v for k, v in made_by_zappa.items() if k != BUILD_RECORD} == {
        k: v for k, v in made_by_make.items() if k != BUILD_RECORD
    }
    with zipfile.ZipFile(tmp_path / "zappa-package.zip") as archive:
        assert f"API_STAGE='{stage}'" in archive.read("zappa_settings.py").decode()
    # Zappa's own pass copied and downloaded nothing (its zip is replaced): no wheel lookups, no size warning.
    assert "Downloading and installing dependencies" not in output
    assert "too large" not in output.lower()


def test_every_stage_names_both_callbacks_and_they_exist():
    module = importlib.util.spec_from_file_location(
        "zappa_callback", packaging.PROJECT_ROOT / "tools/packaging/zappa_callback.py"
    )
    for stage in ("dev", "dev-worker", "staging", "staging-worker", "prod", "prod-worker"):
        callbacks = packaging.load_stage(stage).stage_config["callbacks"]
        assert set(callbacks) == {"settings", "zip"}, stage
        for dotted in callbacks.values():
            path, name = dotted.rsplit(".", 1)
            assert path == "tools.packaging.zappa_callback"
            loaded = importlib.util.module_from_spec(module)
            module.loader.exec_module(loaded)
            assert callable(getattr(loaded, name))


def test_the_callback_cannot_shadow_anything_installed():
    """Zappa imports the callback file under its last dotted name, and the callback appends the project root to
    sys.path: none of those names may be one an installed distribution provides (a `packaging.py` would replace
    the `packaging` package inside Zappa's own process)."""
    provided = importlib.metadata.packages_distributions()
    assert "zappa_callback" not in provided
    project_names = {
        path.stem if path.suffix == ".py" else path.name
        for path in packaging.PROJECT_ROOT.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists()) or path.suffix == ".py"
    }
    assert {"tools", "lego_api", "mocs"} <= project_names
    assert sorted(project_names & set(provided)) == []
