"""The files of the package tree: the project files `zappa package` would take (its excludes applied), collected
static files, precompiled bytecode, Zappa's own root files, and the reproducible zip."""

from __future__ import annotations

import fnmatch
import getpass
import glob
import json
import os
import shutil
import sys
import tempfile
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from tools.packaging.stage import CACHE_DIR, PYTHON_VERSION, PackagingError, run

ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)  # fixed entry times: the same tree gives the same bytes
# Project files that must never ship, whatever the exclude list says.
FORBIDDEN_PROJECT_FILES = (".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "id_rsa*", "*.sqlite3")


def zip_excludes() -> list[str]:
    from zappa.core import ZIP_EXCLUDES

    return list(ZIP_EXCLUDES)


def project_files(project_root: Path, exclude: Sequence[str], exclude_glob: Sequence[str]) -> list[Path]:
    """The project's files that `zappa package` would take: names matching `exclude` pruned anywhere, then the
    root-relative `exclude_glob` paths removed."""
    patterns = [*zip_excludes(), *exclude]
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


def copy_tree(source: Path, destination: Path, patterns: Sequence[str]) -> None:
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


def apply_exclude_glob(root: Path, exclude_glob: Sequence[str]) -> None:
    for pattern in exclude_glob:
        for path in glob.glob(str(root / pattern)):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)


def collect_static(app_dir: Path, settings_module: str) -> None:
    """`collectstatic` run from the package itself, so the files and the manifest are exactly those of the shipped
    versions."""
    code = (
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'collectstatic', '--noinput', '--verbosity', '0'])"
    )
    run_django(app_dir, settings_module, code, "collectstatic", STATIC_ROOT=str(app_dir / "staticfiles"))


def build_openapi(app_dir: Path, settings_module: str, **env_overrides: str) -> bool:
    """The OpenAPI document, generated from the package itself into its `OPENAPI_DOCUMENT_DIR` (the bytes
    `manage.py spectacular` writes, YAML and JSON; lego_api.core.schema serves them). False when the project's
    settings name no such folder (the benchmark's bare Django floor)."""
    code = (
        "import django; django.setup(); from pathlib import Path; from django.conf import settings\n"
        "directory = getattr(settings, 'OPENAPI_DOCUMENT_DIR', None)\n"
        "if directory:\n"
        "    from lego_api.core.schema import build_documents\n"
        "    build_documents(Path(directory))\n"
        "print('built' if directory else 'none')\n"
    )
    result = run_django(app_dir, settings_module, code, "OpenAPI document", **env_overrides)
    return result.stdout.strip().endswith("built")


def run_django(app_dir: Path, settings_module: str, code: str, what: str, **env_overrides: str):
    """`code` run by Python 3.13 in the package itself (isolated interpreter, only the package on the path) with
    local settings: no deployment secret or service is needed."""
    with tempfile.TemporaryDirectory(prefix="django-build-") as scratch:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": scratch,
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": settings_module,
            "ENVIRONMENT": "local",  # no deployment secrets needed
            "LOCAL_DIR": scratch,
            "DATABASE_URL": "postgres://package-build@127.0.0.1:1/never-connected",
            **env_overrides,
        }
        return run(
            [sys.executable, "-I", "-S", "-B", "-c", "import sys; sys.path.insert(0, '.')\n" + code],
            what,
            cwd=app_dir,
            env=env,
        )


LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the zip


def compile_bytecode(app_dir: Path) -> None:
    """Precompile every module; unchecked-hash pycs are used as they are, whatever the files' times. The source
    paths written into the bytecode (tracebacks) are Lambda's, not the build folder's, so the same sources give the
    same bytes whichever scratch folder they were compiled in."""
    if sys.version_info[:2] != tuple(int(p) for p in PYTHON_VERSION.split(".")):
        raise PackagingError(f"bytecode must be compiled by Python {PYTHON_VERSION} (this is {sys.version.split()[0]})")
    command = [sys.executable, "-I", "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    run([*command, "-s", str(app_dir), "-p", LAMBDA_TASK_ROOT, str(app_dir)], "compileall")


def write_zappa_files(app_dir: Path, cli, build_time: str, zappa_dir: Path) -> None:
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


def check_no_secrets(files: Iterable[Path], project_root: Path) -> None:
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
            add_to_zip(archive, path.relative_to(app_dir).as_posix(), path)
            files += 1
            total += path.stat().st_size
    tmp.replace(zip_path)
    return files, total


def add_to_zip(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with path.open("rb") as source, archive.open(info, "w") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
