"""Zappa's callbacks (`callbacks` in zappa_settings.json), so that plain `zappa package|deploy|update STAGE` ship the
zip `make package` builds, not the one Zappa would make from this machine's virtualenv (every dev tool, wheels for
this machine's glibc, no bytecode, over Lambda's size limit).

- `settings` (Zappa calls it once it has loaded the stage, before the command): for Zappa's own packaging pass only,
  the stage's `exclude` becomes `["*"]` and `use_precompiled_packages` false, so Zappa copies nothing from the project
  or the virtualenv and downloads no wheel: its pass writes a zip of its handler in about a second. zappa_settings.json
  is not changed, and `make package` reads the real `exclude`/`exclude_glob` from it.
- `zip` (after Zappa writes its zip, before it uploads it): `tools.packaging.build(STAGE)` writes the stage's zip over
  Zappa's, so the upload is exactly what `make package STAGE=...` builds (from the same cached tree).

Zappa loads this file by its path from the working directory, under the module name `zappa_callback` (the last part of
the dotted path), which no installed distribution provides; `tools` is found by appending the project root to
sys.path, after the installed packages, so nothing Zappa imports can be shadowed (tests/deploy/test_zappa_commands.py
checks both names).
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGING_COMMANDS = ("package", "deploy", "update")
ZAPPA_PASS_SETTINGS = {"exclude": ["*"], "use_precompiled_packages": False}


def zappa_settings_loaded(cli) -> None:
    """The `settings` callback: make Zappa's own packaging pass copy and download nothing (its zip is replaced)."""
    if getattr(cli, "command", None) in PACKAGING_COMMANDS:
        for key, value in ZAPPA_PASS_SETTINGS.items():
            cli.override_stage_config_setting(key, value)  # `stage_config` is rebuilt from the file on every read


def replace_zip(cli) -> None:
    """The `zip` callback: our build of the stage, written over the zip Zappa is about to upload."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.append(str(PROJECT_ROOT))
    from tools.packaging.build import build

    result = build(cli.api_stage, project_root=PROJECT_ROOT, output=Path(cli.zip_path))
    cli.zip_path = str(result.zip_path)
