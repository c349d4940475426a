"""Lambda package builder and deployer: `make package STAGE=dev` and `make deploy STAGE=dev`.

The zip holds what `zappa package` puts in one (Zappa's `handler.py`, `django_zappa_app.py`, `package_info.json` and
the `zappa_settings.py` that ZappaCLI generates for the stage, at the root; the project and its dependencies beside
them), built so that it runs on Lambda's python3.13 x86_64 runtime (Amazon Linux 2023, glibc 2.34) whatever machine
builds it:

- dependencies come from `pip install --target --only-binary=:all: --python-version 3.13 --implementation cp
  -r requirements.txt` with one `--platform` per tag from `manylinux_2_34_x86_64` down to `manylinux2014_x86_64`
  (pip takes a wheel only for a tag it is given: it does not fall back from a newer manylinux tag to older ones, and
  psycopg2-binary ships only manylinux2014, Pillow 2_28, cryptography 2_34), never from the local virtualenv;
  `zappa` itself is installed with `--no-deps` (its deploy-time dependencies, troposphere, kappa, pip, setuptools,
  ..., stay out; the few it imports at run time are pinned in requirements.txt);
- every ELF file is checked for the newest GLIBC symbol version it needs (at most 2.34, else the build fails);
- the admin's static files are collected into `staticfiles/` (whitenoise's compressed manifest storage);
- all bytecode is precompiled by Python 3.13 (`compileall --invalidation-mode unchecked-hash`): /var/task is read-only, so
  without it every cold start compiles every module again. Sources stay beside the bytecode (tracebacks show lines);
- the stage's `exclude` (names, anywhere) and `exclude_glob` (paths from the root) from zappa_settings.json apply
  as in `zappa package`, and a project file that looks like a secret (.env, *.pem, *.key) fails the build.

boto3/botocore are shipped (pinned) rather than taken from the runtime: the runtime's copy is older than our pin and
changes under us, and the tests run against exactly what ships.

Expensive steps are cached under .build/lambda/ by a hash of their inputs (dependencies by requirements.txt and the
platform tags; the assembled tree by the dependencies, the project files and this module), so a rebuild with no change
takes a second. The cache is a hidden folder because Zappa (>= 0.63) searches the working tree, hidden folders
excepted, for `zappa.websocket` imports when it loads the settings, and the cache holds Zappa's own handler, which has
one: found, it would switch on WebSocket support for the stage. The zips go to build/.

    python -m lego_api.packaging build --stage dev [--no-bytecode] [--output PATH]
    python -m lego_api.packaging deploy --stage dev     # the *-worker stage first, migrations, then the API
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import fnmatch
import getpass
import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.13"
# Every manylinux tag Amazon Linux 2023 (glibc 2.34) can load, newest first: 2_34 ... 2_17, and manylinux2014 (the
# legacy name of 2_17, which pip also takes for manylinux2010 and manylinux1).
PLATFORMS = (*(f"manylinux_2_{minor}_x86_64" for minor in range(34, 16, -1)), "manylinux2014_x86_64")
MAX_GLIBC = (2, 34)  # Lambda python3.13 = Amazon Linux 2023
CACHE_DIR = ".build/lambda"  # under the project root; hidden (see the module docstring)
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # Lambda's hard limit for a function's code
MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024  # above this the zip goes through S3
ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)  # fixed entry times: the same tree gives the same bytes
NO_DEPS = ("zappa",)  # installed without dependencies (see the module docstring)
# Project files that must never ship, whatever the exclude list says.
FORBIDDEN_PROJECT_FILES = (".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "id_rsa*", "*.sqlite3")


class PackagingError(RuntimeError):
    """The package cannot be built (or would not run on Lambda)."""


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

    def summary(self) -> str:
        mb = 1024 * 1024
        glibc = ".".join(map(str, self.max_glibc)) or "none"
        steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.timings.items())
        return (
            f"{self.zip_path} ({self.stage}): {self.zipped_bytes / mb:.1f} MB zipped, "
            f"{self.unzipped_bytes / mb:.1f} MB unzipped, {self.files} files, newest GLIBC needed {glibc}; "
            f"built in {self.seconds:.1f}s{' (cached tree)' if self.cached else ''}{f' [{steps}]' if steps else ''}"
        )


# --- Stage settings (ZappaCLI itself, so zappa_settings.py is exactly what `zappa package` writes) -------------


def load_stage(stage: str, project_root: Path = PROJECT_ROOT):
    """A ZappaCLI with the stage's settings loaded (no AWS credentials needed)."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_credentials = False
    settings_file = project_root / "zappa_settings.json"
    if not settings_file.is_file():
        raise PackagingError(f"{settings_file} is missing")
    with contextlib.chdir(project_root):  # Zappa's WebSocket detection walks the working directory
        cli.load_settings(str(settings_file))
    if cli.runtime != f"python{PYTHON_VERSION}" or cli.architecture != "x86_64":
        raise PackagingError(f"stage {stage}: expected runtime python{PYTHON_VERSION} on x86_64")
    return cli


# --- Dependencies -------------------------------------------------------------------------------------------------


def _hash(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


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
    return _hash(*platforms, PYTHON_VERSION, *normal, "--no-deps", *no_deps)


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
        _run([*common, "-r", handle.name], "pip install")
        if no_deps:
            _run([*common, "--no-deps", *no_deps], "pip install --no-deps")
        (work / ".complete").write_text(json.dumps({"normal": normal, "no_deps": no_deps}))
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)
    finally:
        Path(handle.name).unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    _forget_old(cache_dir, "deps-*", keep=target)
    return target


def _run(command: Sequence[str], what: str, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    if result.returncode != 0:
        output = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if "is ignored" not in line)
        raise PackagingError(f"{what} failed (exit {result.returncode}):\n{output[-4000:]}")
    return result


def _forget_old(cache_dir: Path, pattern: str, keep: Path, count: int = 3) -> None:
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


# --- ELF: the newest GLIBC symbol version a shared object needs -----------------------------------------------

_SHT_GNU_VERNEED = 0x6FFFFFFE
_EM_X86_64 = 62


def glibc_versions_needed(path: Path) -> set[tuple[int, ...]]:
    """GLIBC_x.y versions named in the ELF file's version-needs section (.gnu.version_r); empty if not ELF.

    Raises PackagingError for an ELF file that is not 64-bit little-endian x86-64 (it could not load on Lambda).
    """
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        return set()
    if data[4] != 2 or data[5] != 1 or struct.unpack_from("<H", data, 18)[0] != _EM_X86_64:
        raise PackagingError(f"{path}: not a 64-bit x86-64 ELF file")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    versions: set[tuple[int, ...]] = set()
    for _name, kind, _flags, _addr, offset, _size, link, count, _align, _entsize in sections:
        if kind != _SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]
        entry = offset
        for _ in range(count):
            _version, aux_count, _file, aux, next_entry = struct.unpack_from("<HHIII", data, entry)
            aux_at = entry + aux
            for _ in range(aux_count):
                _hash_value, _flags2, _other, name_at, next_aux = struct.unpack_from("<IHHII", data, aux_at)
                end = data.index(b"\0", strings + name_at)
                name = data[strings + name_at : end].decode("ascii", "replace")
                if name.startswith("GLIBC_") and name[6:7].isdigit():
                    versions.add(tuple(int(p) for p in name[6:].split(".") if p.isdigit()))
                aux_at += next_aux
            entry += next_entry
    return versions


def check_glibc(root: Path, limit: tuple[int, ...] = MAX_GLIBC) -> tuple[int, ...]:
    """The newest GLIBC version any shared object under `root` needs; PackagingError naming those above `limit`."""
    newest: tuple[int, ...] = ()
    too_new: list[str] = []
    for path in sorted(root.rglob("*.so*")):
        if not path.is_file() or path.is_symlink():
            continue
        versions = glibc_versions_needed(path)
        if not versions:
            continue
        top = max(versions)
        newest = max(newest, top)
        if top > limit:
            too_new.append(f"{path.relative_to(root)} needs GLIBC_{'.'.join(map(str, top))}")
    if too_new:
        limit_text = ".".join(map(str, limit))
        raise PackagingError(f"shared objects built for a newer glibc than {limit_text}:\n" + "\n".join(too_new))
    return newest


# --- Assembling the tree --------------------------------------------------------------------------------------


def _zip_excludes() -> list[str]:
    from zappa.core import ZIP_EXCLUDES

    return list(ZIP_EXCLUDES)


def _project_files(project_root: Path, exclude: Sequence[str], exclude_glob: Sequence[str]) -> list[Path]:
    """The project's files that `zappa package` would take: names matching `exclude` pruned anywhere, then the
    root-relative `exclude_glob` paths removed."""
    patterns = [*_zip_excludes(), *exclude]
    dropped: set[Path] = {(project_root / CACHE_DIR).parent.resolve()}  # the build cache, whatever the excludes say
    for pattern in exclude_glob:
        dropped.update(Path(p).resolve() for p in glob.glob(str(project_root / pattern)))
    files: list[Path] = []
    for directory, dirnames, filenames in os.walk(project_root):
        here = Path(directory)
        dirnames[:] = sorted(d for d in dirnames if not _matches(d, patterns) and (here / d).resolve() not in dropped)
        for name in sorted(filenames):
            path = here / name
            if not _matches(name, patterns) and path.resolve() not in dropped:
                files.append(path)
    return files


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def _copy_tree(source: Path, destination: Path, patterns: Sequence[str]) -> None:
    """copytree with the exclude names, hard-linking when it can (the cached tree is never modified in place)."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(
        source,
        destination,
        ignore=shutil.ignore_patterns(*patterns),
        copy_function=link_or_copy,
        dirs_exist_ok=True,
        symlinks=False,
    )


def _apply_exclude_glob(root: Path, exclude_glob: Sequence[str]) -> None:
    for pattern in exclude_glob:
        for path in glob.glob(str(root / pattern)):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)


def collect_static(app_dir: Path, settings_module: str) -> None:
    """`collectstatic` run from the package itself (isolated interpreter, only the package on the path), so the
    files and the manifest are exactly those of the shipped versions."""
    code = (
        "import sys; sys.path.insert(0, '.');"
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'collectstatic', '--noinput', '--verbosity', '0'])"
    )
    with tempfile.TemporaryDirectory(prefix="collectstatic-") as scratch:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": scratch,
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": settings_module,
            "ENVIRONMENT": "local",  # no deployment secrets needed to collect files
            "LOCAL_DIR": scratch,
            "DATABASE_URL": "postgres://collectstatic@127.0.0.1:1/never-connected",
            "STATIC_ROOT": str(app_dir / "staticfiles"),
        }
        _run([sys.executable, "-I", "-S", "-B", "-c", code], "collectstatic", cwd=app_dir, env=env)


def compile_bytecode(app_dir: Path) -> None:
    """Precompile every module; unchecked-hash pycs are used as they are, whatever the files' times."""
    if sys.version_info[:2] != tuple(int(p) for p in PYTHON_VERSION.split(".")):
        raise PackagingError(f"bytecode must be compiled by Python {PYTHON_VERSION} (this is {sys.version.split()[0]})")
    command = [sys.executable, "-I", "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    _run([*command, str(app_dir)], "compileall")


def _write_zappa_files(app_dir: Path, cli, build_time: str, zappa_dir: Path) -> None:
    """What `zappa package` adds at the root: the handler, the Django shim, package_info.json, zappa_settings.py.

    The handler and shim come from the shipped zappa (`zappa_dir`), so they always match its modules.
    """
    shutil.copyfile(zappa_dir / "handler.py", app_dir / "handler.py")
    if cli.django_settings:
        shutil.copyfile(zappa_dir / "ext" / "django_zappa.py", app_dir / "django_zappa_app.py")
    info = {
        "uuid": str(uuid.uuid4()),
        "build_time": build_time,
        "build_platform": sys.platform,
        "build_user": getpass.getuser(),
    }
    (app_dir / "package_info.json").write_text(json.dumps(info, indent=4))
    (app_dir / "zappa_settings.py").write_text(cli.get_zappa_settings_string())


def _check_no_secrets(files: Iterable[Path], project_root: Path) -> None:
    bad = [str(p.relative_to(project_root)) for p in files if _matches(p.name, FORBIDDEN_PROJECT_FILES)]
    if bad:
        raise PackagingError("refusing to package files that may hold secrets: " + ", ".join(bad))


def write_zip(app_dir: Path, zip_path: Path) -> tuple[int, int]:
    """Zip the tree (sorted, fixed times, 0644) into `zip_path`; returns (files, unzipped bytes)."""
    files = 0
    total = 0
    tmp = zip_path.with_name(f".{zip_path.name}.{os.getpid()}.tmp")
    # Root dot-files are the build's own bookkeeping (.complete, .base.zip).
    entries = sorted(
        p for p in app_dir.rglob("*") if p.is_file() and not (p.parent == app_dir and p.name.startswith("."))
    )
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in entries:
            _add(archive, path.relative_to(app_dir).as_posix(), path)
            files += 1
            total += path.stat().st_size
    tmp.replace(zip_path)
    return files, total


def _add(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with path.open("rb") as source, archive.open(info, "w") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)


# --- Build ----------------------------------------------------------------------------------------------------


def build(
    stage: str,
    *,
    project_root: Path = PROJECT_ROOT,
    bytecode: bool = True,
    collectstatic: bool = True,
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
        return _build(stage, project_root, cache_dir, build_dir, bytecode, collectstatic, output, log)


def _build(stage, project_root, cache_dir, build_dir, bytecode, collectstatic, output, log) -> BuildResult:
    began = time.monotonic()
    timings: dict[str, float] = {}
    cli = load_stage(stage, project_root)
    exclude = list(cli.stage_config.get("exclude", []))
    exclude_glob = list(cli.stage_config.get("exclude_glob", []))
    patterns = [*_zip_excludes(), *exclude, "concurrent"]  # zappa always drops a top-level `concurrent` too

    step = time.monotonic()
    deps = install_dependencies(project_root / "requirements.txt", cache_dir)
    timings["dependencies"] = time.monotonic() - step

    files = _project_files(project_root, exclude, exclude_glob)
    _check_no_secrets(files, project_root)
    key = _hash(
        deps.name,
        Path(__file__).read_bytes(),
        json.dumps([exclude, exclude_glob, bytecode, collectstatic, cli.django_settings]),
        *(f"{p.relative_to(project_root)}:{_file_digest(p)}" for p in files),
    )
    app_dir = cache_dir / f"app-{key}"
    cached = _finished_tree(app_dir) is not None
    if not cached:
        work = Path(tempfile.mkdtemp(prefix=f"app-{key}-tmp", dir=cache_dir))
        try:
            step = time.monotonic()
            _copy_tree(deps, work, patterns)
            (work / ".complete").unlink(missing_ok=True)
            for path in files:
                target = work / path.relative_to(project_root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            _apply_exclude_glob(work, exclude_glob)
            timings["assemble"] = time.monotonic() - step
            if collectstatic and cli.django_settings:
                step = time.monotonic()
                collect_static(work, cli.django_settings)
                timings["collectstatic"] = time.monotonic() - step
            step = time.monotonic()
            newest = check_glibc(work)
            timings["glibc check"] = time.monotonic() - step
            if bytecode:
                step = time.monotonic()
                compile_bytecode(work)
                timings["compileall"] = time.monotonic() - step
            step = time.monotonic()
            write_zip(work, work / ".base.zip")
            timings["zip"] = time.monotonic() - step
            (work / ".complete").write_text(json.dumps({"max_glibc": newest}))
            shutil.rmtree(app_dir, ignore_errors=True)
            work.rename(app_dir)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _forget_old(cache_dir, "app-*", keep=app_dir)
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
        _write_zappa_files(stage_dir, cli, str(int(time.time())), zappa_dir=app_dir / "zappa")
        if bytecode:
            compile_bytecode(stage_dir)
        partial = zip_path.with_name(f".{zip_path.name}.{os.getpid()}.tmp")
        shutil.copyfile(base_zip, partial)
        with zipfile.ZipFile(partial, "a", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in stage_dir.rglob("*") if p.is_file()):
                _add(archive, path.relative_to(stage_dir).as_posix(), path)
        partial.replace(zip_path)
    timings["stage files"] = time.monotonic() - step

    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    unzipped = sum(info.file_size for info in infos)
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


# --- Deploy ---------------------------------------------------------------------------------------------------


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


def _zip_source(cli, result: BuildResult) -> str:
    """The local path, or an s3:// URL in the stage's s3_bucket (created if missing, as zappa does) when the zip is
    too big for a direct upload."""
    if result.zipped_bytes <= MAX_DIRECT_UPLOAD_BYTES:
        return str(result.zip_path)
    if not cli.zappa.upload_to_s3(str(result.zip_path), cli.s3_bucket_name):
        raise PackagingError(f"uploading {result.zip_path} to s3://{cli.s3_bucket_name} failed")
    return f"s3://{cli.s3_bucket_name}/{result.zip_path.name}"


def deploy_stage(stage: str) -> None:
    """`zappa deploy` the first time (creating Zappa's execution role when it manages roles), else `zappa update`,
    always from our own zip."""
    result = build(stage)
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(PROJECT_ROOT / "zappa_settings.json"))
    source = _zip_source(cli, result)
    if _is_deployed(cli):
        _zappa("update", stage, "--zip", source)
    else:
        if cli.manage_roles:
            cli.zappa.create_iam_roles()  # `zappa deploy --zip` skips this step
        _zappa("deploy", stage, "--zip", source)


def deploy(stage: str) -> None:
    """Worker first (it runs the migrations and must know the new code before the API dispatches to it), then
    `migrate` on the worker (900 s timeout rather than the API's 30 s), then the API stage."""
    worker = f"{stage}-worker"
    deploy_stage(worker)
    _zappa("manage", worker, "migrate --noinput")
    deploy_stage(stage)


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lego_api.packaging", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the stage's Lambda zip under build/")
    build_parser.add_argument("--stage", required=True)
    build_parser.add_argument("--output", type=Path)
    build_parser.add_argument("--no-bytecode", action="store_true", help="skip compileall (for comparisons)")
    deploy_parser = commands.add_parser("deploy", help="build and deploy STAGE-worker, migrate, then STAGE")
    deploy_parser.add_argument("--stage", required=True)
    rollback_parser = commands.add_parser("rollback", help="point STAGE's snapstart alias at an earlier version")
    rollback_parser.add_argument("--stage", required=True)
    rollback_parser.add_argument("--steps", type=int, default=1, help="how many code versions back (default 1)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build(args.stage, output=args.output, bytecode=not args.no_bytecode)
        elif args.command == "rollback":
            rollback(args.stage, args.steps)
        else:
            deploy(args.stage)
    except PackagingError as exc:
        print(f"packaging: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
