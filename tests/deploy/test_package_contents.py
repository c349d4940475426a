"""What the Lambda zip holds: Zappa's files exactly as `zappa package` writes them, Lambda-compatible binaries,
precompiled bytecode, collected static files, and nothing that should stay home (tests, dev tools, secrets)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.deploy.conftest import TEST_SECRET_KEY
from tools import devstack, packaging
from tools.packaging import tree


@pytest.fixture(scope="module")
def names(package) -> list[str]:
    with zipfile.ZipFile(package.zip_path) as archive:
        return archive.namelist()


def test_zappa_files_sit_at_the_root_as_zappa_package_writes_them(package, unzipped):
    cli = packaging.load_stage("dev")
    for name in ("handler.py", "django_zappa_app.py", "package_info.json", "zappa_settings.py"):
        assert (unzipped / name).is_file(), name
    assert (unzipped / "handler.py").read_bytes() == (unzipped / "zappa" / "handler.py").read_bytes()
    assert (unzipped / "django_zappa_app.py").read_bytes() == (unzipped / "zappa/ext/django_zappa.py").read_bytes()
    assert (unzipped / "zappa_settings.py").read_text() == cli.get_zappa_settings_string()
    settings_text = (unzipped / "zappa_settings.py").read_text()
    assert "DJANGO_SETTINGS='lego_api.settings'" in settings_text
    assert "DEBUG=False" in settings_text
    assert "LOG_LEVEL='WARNING'" in settings_text
    assert "API_STAGE='dev'" in settings_text


def test_worker_stage_zip_differs_only_by_its_zappa_settings(package, tmp_path):
    worker = packaging.build("dev-worker", output=tmp_path / "worker.zip", log=lambda _: None)

    assert worker.cached  # the tree is shared with the dev stage
    with zipfile.ZipFile(worker.zip_path) as archive:
        assert "API_STAGE='dev-worker'" in archive.read("zappa_settings.py").decode()
        worker_names = set(archive.namelist())
    with zipfile.ZipFile(package.zip_path) as archive:
        assert worker_names == set(archive.namelist())


def test_no_tests_dev_tools_or_local_files(names):
    top_level = {name.split("/")[0] for name in names}
    for unwanted in (
        *("tests", ".venv", ".local", ".git", "build", "pip", "setuptools", "wheel", "_pytest", "pytest"),
        *(
            ".hypothesis",
            "reports",
            "infra",
            "docs",
            "tools",
        ),  # the fuzz suite's database, load reports, never-shipped code
    ):
        assert unwanted not in top_level, unwanted
    for deploy_only in ("troposphere", "kappa", "placebo", "cfn_flip", "tqdm", "hjson", "argcomplete", "slugify"):
        assert deploy_only not in top_level, deploy_only
    assert not [n for n in names if "/tests/" in f"/{n}"]
    assert not [n for n in names if Path(n).name.startswith(".env")]
    assert not [n for n in names if n.startswith(("manage.py", "requirements", "zappa_settings.json", "Makefile"))]
    for needed in ("zappa", "werkzeug", "boto3", "botocore", "django", "psycopg2", "PIL", "aws_xray_sdk", "mocs"):
        assert needed in top_level, needed


def test_no_tooling_in_the_package(names):
    """tools/ (the local services, this builder) never runs on Lambda: no file of it ships, and the runtime package
    does not need it (the packaged handler tests import and serve without it)."""
    assert (packaging.PROJECT_ROOT / "tools" / "packaging" / "build.py").is_file()  # it exists, and stays home
    assert not [n for n in names if n.split("/")[0] == "tools"]
    assert not [n for n in names if n.startswith("lego_api/") and ("devstack" in n or "/packaging" in n)]


def test_no_secret_values_in_any_file(package):
    needles = [TEST_SECRET_KEY.encode(), devstack.S3_SECRET_KEY.encode()]
    if os.environ.get("AWS_SECRET_ACCESS_KEY"):
        needles.append(os.environ["AWS_SECRET_ACCESS_KEY"].encode())
    with zipfile.ZipFile(package.zip_path) as archive:
        for info in archive.infolist():
            content = archive.read(info)
            assert not [n for n in needles if n in content], info.filename


def test_every_shared_object_needs_glibc_2_34_or_older(unzipped, names):
    shared = [n for n in names if re.search(r"\.so(\.|$)", n)]
    assert any("psycopg2" in n for n in shared) and any(n.startswith("PIL/") for n in shared)
    for name in shared:
        versions = packaging.glibc_versions_needed(unzipped / name)
        assert not versions or max(versions) <= (2, 34), (name, max(versions))
    assert packaging.MAX_GLIBC == (2, 34)  # Amazon Linux 2023


def test_wheels_are_cpython_3_13_of_every_manylinux_tag_down_to_2014(package):
    """pip takes a wheel only for a tag it is given: each dependency's newest manylinux tag must be in the list."""
    deps = next(
        package.app_dir.parent.glob(f"deps-{packaging.dependencies_key(packaging.PROJECT_ROOT / 'requirements.txt')}")
    )
    tags = {}
    for wheel in deps.glob("*.dist-info/WHEEL"):
        lines = wheel.read_text().splitlines()
        tags[wheel.parent.name.split("-")[0].lower()] = {
            line.split(": ", 1)[1] for line in lines if line.startswith("Tag: ")
        }
    assert "cp313-cp313-manylinux2014_x86_64" in tags["psycopg2_binary"]
    assert any(t.startswith("cp313-cp313-manylinux_2_28_") for t in tags["pillow"])
    assert "cp311-abi3-manylinux_2_34_x86_64" in tags["cryptography"]
    binary = {name: t for name, t in tags.items() if not any(tag.endswith("-none-any") for tag in t)}
    for name, wheel_tags in binary.items():
        assert any(tag.split("-")[2] in packaging.PLATFORMS for tag in wheel_tags), (name, wheel_tags)
        assert all(tag.split("-")[0] in ("cp313", "cp311", "cp39", "cp38", "cp37", "py3") for tag in wheel_tags), name
    assert packaging.PLATFORMS[0] == "manylinux_2_34_x86_64" and packaging.PLATFORMS[-1] == "manylinux2014_x86_64"
    assert len(packaging.PLATFORMS) == 19  # 2_34 ... 2_17, and manylinux2014


def test_the_platform_tags_are_part_of_the_dependency_cache_key():
    requirements = packaging.PROJECT_ROOT / "requirements.txt"
    assert packaging.dependencies_key(requirements) != packaging.dependencies_key(requirements, packaging.PLATFORMS[1:])
    assert packaging.dependencies_key(requirements) == packaging.dependencies_key(requirements, packaging.PLATFORMS)


@pytest.mark.skipif(shutil.which("objdump") is None, reason="binutils not installed")
def test_glibc_reader_agrees_with_objdump(unzipped):
    library = next((unzipped / "psycopg2").glob("_psycopg*.so"))
    output = subprocess.run(["objdump", "-T", str(library)], capture_output=True, text=True, check=True).stdout
    expected = {tuple(int(p) for p in v.split(".")) for v in re.findall(r"GLIBC_([0-9.]+)", output)}
    assert packaging.glibc_versions_needed(library) == expected


def test_glibc_check_rejects_a_newer_library(tmp_path, unzipped):
    library = next((unzipped / "psycopg2").glob("_psycopg*.so"))
    copy = tmp_path / "lib" / library.name
    copy.parent.mkdir()
    copy.write_bytes(library.read_bytes())
    newest = max(packaging.glibc_versions_needed(copy))

    with pytest.raises(packaging.PackagingError, match="newer glibc"):
        packaging.check_glibc(tmp_path, limit=(newest[0], newest[1] - 1))


def test_bytecode_is_precompiled_unchecked_hash_next_to_the_sources(unzipped, names):
    sources = [n for n in names if n.endswith(".py")]
    assert len(sources) > 1000
    for source in sources:
        pyc = Path(importlib.util.cache_from_source(source))
        assert str(pyc) in names, source
    for source in ("lego_api/settings.py", "django/db/models/query.py", "handler.py", "zappa_settings.py"):
        header = (unzipped / importlib.util.cache_from_source(source)).read_bytes()[4:8]
        assert int.from_bytes(header, "little") == 0b01, source  # hash-based, never checked against the source
    magic = (unzipped / importlib.util.cache_from_source("handler.py")).read_bytes()[:4]
    assert magic == importlib.util.MAGIC_NUMBER  # compiled by this Python, 3.13 (the suite runs on it)
    assert sys.version_info[:2] == (3, 13)


def test_admin_static_files_are_collected_hashed_and_compressed(names):
    static = [n for n in names if n.startswith("staticfiles/")]
    assert "staticfiles/staticfiles.json" in static
    assert any(re.match(r"staticfiles/admin/css/base\.[0-9a-f]{12}\.css$", n) for n in static)
    assert any(re.match(r"staticfiles/admin/css/base\.[0-9a-f]{12}\.css\.gz$", n) for n in static)
    assert "staticfiles/admin/css/base.css" not in static  # only hashed names are kept


def test_package_fits_lambda(package):
    assert package.unzipped_bytes < packaging.MAX_UNZIPPED_BYTES
    assert package.max_glibc <= packaging.MAX_GLIBC


def test_the_build_cache_does_not_switch_on_zappa_websockets(package, unzipped, tmp_path):
    """Zappa >= 0.63 enables WebSocket support when the working tree has a `zappa.websocket` import; the build cache
    holds Zappa's handler, which has one, so it lives in a hidden folder, which Zappa does not search."""
    from zappa.cli import ZappaCLI

    handlers = sorted((packaging.PROJECT_ROOT / packaging.CACHE_DIR).glob("*/zappa/handler.py"))
    assert handlers and "zappa.websocket" in handlers[0].read_text()  # the cache is present and has the import
    assert not packaging.load_stage("dev").use_websocket
    assert "WEBSOCKET_HANDLER_MODULE" not in (unzipped / "zappa_settings.py").read_text()
    # The control: the same file in a folder Zappa searches would switch WebSockets on.
    (tmp_path / "build" / "zappa").mkdir(parents=True)
    shutil.copyfile(handlers[0], tmp_path / "build" / "zappa" / "handler.py")
    with contextlib.chdir(tmp_path):
        assert ZappaCLI._detect_websocket_usage() == "build.zappa.handler"


def test_the_build_cache_is_never_a_project_file(package):
    """Even for a stage whose `exclude` does not name it (the benchmark's floor project has none)."""
    cache = (packaging.PROJECT_ROOT / packaging.CACHE_DIR).parent
    assert any(cache.iterdir())
    files = tree.project_files(packaging.PROJECT_ROOT, exclude=[], exclude_glob=[])
    assert files and not [f for f in files if cache in f.parents]
