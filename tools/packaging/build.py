"""`build()`: the stage's zip, from the cached dependencies and the cached assembled tree (see the package
docstring), with the stage's own Zappa files added to a copy of the tree's zip."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from tools.packaging import tree
from tools.packaging.dependencies import forget_old, install_dependencies
from tools.packaging.elf import check_glibc
from tools.packaging.stage import (
    CACHE_DIR,
    MAX_DIRECT_UPLOAD_BYTES,
    MAX_UNZIPPED_BYTES,
    PROJECT_ROOT,
    PackagingError,
    content_hash,
    load_stage,
)

BOTO_PACKAGES = ("boto3", "botocore", "s3transfer")


@dataclass
class BuildResult:
    stage: str
    zip_path: Path
    app_dir: Path
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    seconds: float
    max_glibc: tuple[int, ...]
    cached: bool
    timings: dict[str, float] = field(default_factory=dict)
    boto_bytes: int = 0  # boto3, botocore and s3transfer unzipped (the python3.13 runtime carries its own copies)

    def summary(self) -> str:
        mb = 1024 * 1024
        glibc = ".".join(map(str, self.max_glibc)) or "none"
        steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.timings.items())
        return (
            f"{self.zip_path} ({self.stage}): {self.zipped_bytes / mb:.1f} MB zipped, "
            f"{self.unzipped_bytes / mb:.1f} MB unzipped of Lambda's {MAX_UNZIPPED_BYTES / mb:.0f} MB "
            f"(boto3+botocore+s3transfer {self.boto_bytes / mb:.1f} MB of it), {self.files} files, "
            f"newest GLIBC needed {glibc}; "
            f"built in {self.seconds:.1f}s{' (cached tree)' if self.cached else ''}{f' [{steps}]' if steps else ''}"
        )


def build(
    stage: str,
    *,
    project_root: Path = PROJECT_ROOT,
    bytecode: bool = True,
    collectstatic: bool = True,
    openapi: bool = True,
    output: Path | None = None,
    build_dir: Path | None = None,
    log=print,
) -> BuildResult:
    """Build the stage's zip (see the module docstring); cached steps are reused."""
    project_root = Path(project_root).resolve()
    build_dir = Path(build_dir or project_root / "build").resolve()
    cache_dir = project_root / CACHE_DIR
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # builds sharing build/ (parallel test runs) take turns
        return _build(stage, project_root, cache_dir, build_dir, bytecode, collectstatic, openapi, output, log)


def _build(stage, project_root, cache_dir, build_dir, bytecode, collectstatic, openapi, output, log) -> BuildResult:
    began = time.monotonic()
    timings: dict[str, float] = {}
    cli = load_stage(stage, project_root)
    exclude = list(cli.stage_config.get("exclude", []))
    exclude_glob = list(cli.stage_config.get("exclude_glob", []))
    patterns = [*tree.zip_excludes(), *exclude, "concurrent"]  # zappa always drops a top-level `concurrent` too
    # The document's info.version is APP_VERSION: the stage's own when it sets one (else the settings' default).
    app_version = {
        name: value
        for name, value in cli.stage_config.get("aws_environment_variables", {}).items()
        if name == "APP_VERSION"
    }

    step = time.monotonic()
    deps = install_dependencies(project_root / "requirements.txt", cache_dir)
    timings["dependencies"] = time.monotonic() - step

    files = tree.project_files(project_root, exclude, exclude_glob)
    tree.check_no_secrets(files, project_root)
    key = content_hash(
        deps.name,
        *(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py"))),  # this package's code
        json.dumps([exclude, exclude_glob, bytecode, collectstatic, openapi, app_version, cli.django_settings]),
        *(f"{p.relative_to(project_root)}:{_file_digest(p)}" for p in files),
    )
    app_dir = cache_dir / f"app-{key}"
    cached = _finished_tree(app_dir) is not None
    if not cached:
        work = Path(tempfile.mkdtemp(prefix=f"app-{key}-tmp", dir=cache_dir))
        try:
            step = time.monotonic()
            tree.copy_tree(deps, work, patterns)
            (work / ".complete").unlink(missing_ok=True)
            for path in files:
                target = work / path.relative_to(project_root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            tree.apply_exclude_glob(work, exclude_glob)
            timings["assemble"] = time.monotonic() - step
            if collectstatic and cli.django_settings:
                step = time.monotonic()
                tree.collect_static(work, cli.django_settings)
                timings["collectstatic"] = time.monotonic() - step
            if openapi and cli.django_settings:
                step = time.monotonic()
                tree.build_openapi(work, cli.django_settings, **app_version)
                timings["openapi"] = time.monotonic() - step
            step = time.monotonic()
            newest = check_glibc(work)
            timings["glibc check"] = time.monotonic() - step
            if bytecode:
                step = time.monotonic()
                tree.compile_bytecode(work)
                timings["compileall"] = time.monotonic() - step
            step = time.monotonic()
            tree.write_zip(work, work / ".base.zip")
            timings["zip"] = time.monotonic() - step
            (work / ".complete").write_text(json.dumps({"max_glibc": newest}))
            shutil.rmtree(app_dir, ignore_errors=True)
            work.rename(app_dir)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        forget_old(cache_dir, "app-*", keep=app_dir)
    newest = _finished_tree(app_dir)
    if newest is None:
        raise PackagingError(f"{app_dir} vanished during the build")
    base_zip = app_dir / ".base.zip"

    # The stage's own files go into a copy of the cached zip: stages share everything else.
    step = time.monotonic()
    zip_path = Path(output or build_dir / f"{cli.lambda_name}.zip").resolve()
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stage-files-") as scratch:
        stage_dir = Path(scratch)
        tree.write_zappa_files(stage_dir, cli, str(int(time.time())), zappa_dir=app_dir / "zappa")
        if bytecode:
            tree.compile_bytecode(stage_dir)
        partial = zip_path.with_name(f".{zip_path.name}.{os.getpid()}.tmp")
        shutil.copyfile(base_zip, partial)
        with zipfile.ZipFile(partial, "a", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in stage_dir.rglob("*") if p.is_file()):
                tree.add_to_zip(archive, path.relative_to(stage_dir).as_posix(), path)
        partial.replace(zip_path)
    timings["stage files"] = time.monotonic() - step

    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    unzipped = sum(info.file_size for info in infos)
    boto = sum(info.file_size for info in infos if info.filename.split("/", 1)[0] in BOTO_PACKAGES)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise PackagingError(f"{zip_path}: {unzipped} bytes unzipped, over Lambda's {MAX_UNZIPPED_BYTES}")
    result = BuildResult(
        stage=stage,
        zip_path=zip_path,
        app_dir=app_dir,
        zipped_bytes=zip_path.stat().st_size,
        unzipped_bytes=unzipped,
        files=len(infos),
        seconds=time.monotonic() - began,
        max_glibc=newest,
        cached=cached,
        timings=timings,
        boto_bytes=boto,
    )
    log(result.summary())
    if result.zipped_bytes > MAX_DIRECT_UPLOAD_BYTES:
        log("note: over 50 MB zipped; `deploy` uploads it to the stage's s3_bucket first")
    return result


def _finished_tree(app_dir: Path) -> tuple[int, ...] | None:
    """The newest GLIBC version of a finished cached tree, or None when it is not one."""
    try:
        record = json.loads((app_dir / ".complete").read_text())
    except (OSError, ValueError):
        return None
    if "max_glibc" not in record or not (app_dir / ".base.zip").is_file():
        return None
    return tuple(record["max_glibc"])


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
