"""The dependencies for Lambda: `pip install --target --only-binary=:all: --python-version 3.13 --implementation cp`
with one `--platform` per manylinux tag Amazon Linux 2023 can load, cached by a hash of the requirements and tags."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tools.packaging.stage import PLATFORMS, PYTHON_VERSION, content_hash, run

NO_DEPS = ("zappa",)  # installed without dependencies (see the package docstring)


def _split_requirements(requirements: Path) -> tuple[list[str], list[str]]:
    """(normal lines, lines installed with --no-deps)."""
    normal, no_deps = [], []
    for raw in requirements.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split("[", 1)[0].split("=", 1)[0].split("<", 1)[0].split(">", 1)[0].strip().lower()
        (no_deps if name in NO_DEPS else normal).append(line)
    return normal, no_deps


def dependencies_key(requirements: Path, platforms: Sequence[str] = PLATFORMS) -> str:
    """The cache key of the installed dependencies: the requirements, the Python version and the platform tags."""
    normal, no_deps = _split_requirements(requirements)
    return content_hash(*platforms, PYTHON_VERSION, *normal, "--no-deps", *no_deps)


def install_dependencies(requirements: Path, cache_dir: Path, platforms: Sequence[str] = PLATFORMS) -> Path:
    """pip-install the requirements for Lambda into a directory cached by `dependencies_key`."""
    normal, no_deps = _split_requirements(requirements)
    key = dependencies_key(requirements, platforms)
    target = cache_dir / f"deps-{key}"
    if (target / ".complete").exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"deps-{key}-tmp", dir=cache_dir))
    common = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    common += ["--target", str(work), *(arg for tag in platforms for arg in ("--platform", tag)), "--only-binary=:all:"]
    common += ["--python-version", PYTHON_VERSION, "--implementation", "cp"]
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=cache_dir, delete=False) as handle:
            handle.write("\n".join(normal) + "\n")
        run([*common, "-r", handle.name], "pip install")
        if no_deps:
            run([*common, "--no-deps", *no_deps], "pip install --no-deps")
        (work / ".complete").write_text(json.dumps({"normal": normal, "no_deps": no_deps}))
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)
    finally:
        Path(handle.name).unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    forget_old(cache_dir, "deps-*", keep=target)
    return target


def forget_old(cache_dir: Path, pattern: str, keep: Path, count: int = 3) -> None:
    """Keep `keep` and the newest others up to `count` entries of a kind (each is ~150 MB); unfinished work of a
    build that died is removed after a day."""
    entries = sorted(
        (p for p in cache_dir.glob(pattern) if p.is_dir() and p != keep and "-tmp" not in p.name),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in entries[count - 1 :]:
        shutil.rmtree(path, ignore_errors=True)
    for path in cache_dir.glob(f"{pattern}-tmp*"):
        if time.time() - path.stat().st_mtime > 86_400:
            shutil.rmtree(path, ignore_errors=True)
