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
platform tags; the assembled tree by the dependencies, the project files and this package's code), so a rebuild with no change
takes a second. The cache is a hidden folder because Zappa (>= 0.63) searches the working tree, hidden folders
excepted, for `zappa.websocket` imports when it loads the settings, and the cache holds Zappa's own handler, which has
one: found, it would switch on WebSocket support for the stage. The zips go to build/.

    python -m tools.packaging build --stage dev [--no-bytecode] [--output PATH]
    python -m tools.packaging deploy --stage dev     # the *-worker stage first, migrations, then the API
    python -m tools.packaging rollback --stage dev [--steps 1]   # SnapStart stages: serve an earlier version

Modules: `stage` (the stage's settings, the target platform), `dependencies`, `elf` (the GLIBC check), `tree` (project
files, static files, bytecode, the zip), `build`, `deploy` (deploy and rollback), `cli`.
"""

from tools.packaging.build import BuildResult, build
from tools.packaging.dependencies import dependencies_key, install_dependencies
from tools.packaging.deploy import deploy, rollback, rollback_version
from tools.packaging.elf import check_glibc, glibc_versions_needed
from tools.packaging.stage import (
    CACHE_DIR,
    MAX_GLIBC,
    MAX_UNZIPPED_BYTES,
    PLATFORMS,
    PROJECT_ROOT,
    PackagingError,
    load_stage,
)

__all__ = [
    "CACHE_DIR",
    "MAX_GLIBC",
    "MAX_UNZIPPED_BYTES",
    "PLATFORMS",
    "PROJECT_ROOT",
    "BuildResult",
    "PackagingError",
    "build",
    "check_glibc",
    "dependencies_key",
    "deploy",
    "glibc_versions_needed",
    "install_dependencies",
    "load_stage",
    "rollback",
    "rollback_version",
]
