"""The stage's settings (read by ZappaCLI itself, so zappa_settings.py is exactly what `zappa package` writes), the
target platform (Lambda's python3.13 on x86_64, Amazon Linux 2023), and the helpers every step shares."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PYTHON_VERSION = "3.13"
# Every manylinux tag Amazon Linux 2023 (glibc 2.34) can load, newest first: 2_34 ... 2_17, and manylinux2014 (the
# legacy name of 2_17, which pip also takes for manylinux2010 and manylinux1).
PLATFORMS = (*(f"manylinux_2_{minor}_x86_64" for minor in range(34, 16, -1)), "manylinux2014_x86_64")
MAX_GLIBC = (2, 34)  # Lambda python3.13 = Amazon Linux 2023
CACHE_DIR = ".build/lambda"  # under the project root; hidden (see the package docstring)
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # Lambda's hard limit for a function's code
MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024  # above this the zip goes through S3


class PackagingError(RuntimeError):
    """The package cannot be built (or would not run on Lambda)."""


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


def content_hash(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def run(command: Sequence[str], what: str, **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    if result.returncode != 0:
        output = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if "is ignored" not in line)
        raise PackagingError(f"{what} failed (exit {result.returncode}):\n{output[-4000:]}")
    return result
