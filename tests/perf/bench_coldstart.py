"""Benchmark: Lambda cold start of the packaged API against a bare Django + DRF hello-world package built the same
way (target: within 1.3x of that floor), each with and without precompiled bytecode.

A cold start is a fresh isolated process (`python -I -S`, only the unzipped package on its path, /var/task-like:
nothing it compiles is kept) importing Zappa's handler and serving its first request: `GET /api/mocs` with a
Cognito-style token for the API (JWKS fetch, database connection, cache and query included), `GET /hello` for the
floor. Median of RUNS runs each, after one unmeasured warm-up of the disk cache; the cases are run in turns, so that a
change in the load of this shared machine falls on each alike (compare the API with the floor of the same run).
Needs the local services (started here, as the tests do). The API package is what `make package` builds: its OpenAPI
document built in, and the admin, drf-spectacular's views and the static files' table left to first use.

Run with `.venv/bin/python tests/perf/bench_coldstart.py`. Prints figures; it is not a timed test.

`--restore` measures SnapStart instead: the packaged handler is initialized as a SnapStart init (hooks registered),
its before-snapshot hooks run (in reverse order of registration, as Lambda runs them), the process forks, and the child
("the restored copy") runs the after-restore hooks (the secret re-read included) and serves the first authenticated
`GET /api/mocs` with new database and Redis connections. Reported beside the full cold start (same secret fetch at
init) and the bare Django + DRF floor. A fork is kinder than a real restore (no snapshot to load, `random` reseeded
and redis-py pools reset by the new PID), so the restore figure is a lower bound. Goal: restore to first response at
most a quarter of the full cold start.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import harness
from tests.deploy.conftest import PackagedLambda, api_event, lambda_env, moto_client
from tools import packaging

RUNS = 7
TARGET_RATIO = 1.3
RESTORE_TARGET = 0.25  # restore to first response / full cold start
HELLO_PINS = ("django", "djangorestframework", "zappa", "werkzeug", "durationpy", "boto3", "botocore")

HELLO_FILES = {
    "hello/__init__.py": "",
    "hello/settings.py": """
import os
SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "hello.urls"
DATABASES = {}
USE_TZ = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
}
""",
    "hello/urls.py": """
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class Hello(APIView):
    def get(self, request):
        return Response({"hello": "world"})


urlpatterns = [path("hello", Hello.as_view())]
""",
}


def hello_project(root: Path) -> Path:
    """The floor: Django + DRF + Zappa's handler (and boto3, which the handler imports), pinned as ours."""
    for name, text in HELLO_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text.lstrip())
    pins = []
    for line in (packaging.PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        name = line.split("==", 1)[0].strip().lower()
        if name in HELLO_PINS:
            pins.append(line.strip())
    (root / "requirements.txt").write_text("\n".join(pins) + "\n")
    stage = {
        "project_name": "hello",
        "django_settings": "hello.settings",
        "runtime": "python3.13",
        "aws_region": "us-east-1",
        "s3_bucket": "unused",
        "exclude": ["__pycache__", "*.pyc", "tests", "*.po", "*.pyi"],
        "exclude_glob": ["bin", "build", "requirements.txt", "zappa_settings.json"],
    }
    (root / "zappa_settings.json").write_text(json.dumps({"dev": stage}, indent=2))
    return root


def unzip(zip_path: Path, target: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    return target


def cpu_ms(pid: int) -> float:
    """CPU time a running process has used so far, all its threads (Linux's scheduler statistics, in ns)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        total += int((task / "schedstat").read_text().split()[0])
    return total / 1e6


def cold_start(package_dir: Path, event_for, env: dict[str, str]) -> tuple[float, float, float, float, float]:
    """(total, init, first request, second request, CPU) milliseconds for one fresh process. CPU is the process's
    CPU time up to its first response (network waits excluded), which the load of a shared machine disturbs far
    less than the wall time."""
    began = time.perf_counter()
    runner = PackagedLambda(package_dir, env)
    try:
        first = runner.invoke(event_for())
        total = (time.perf_counter() - began) * 1000
        cpu = cpu_ms(runner.process.pid)
        assert first.ok and first.result["statusCode"] == 200, (first.error, first.result)
        second = runner.invoke(event_for())
    finally:
        runner.close()
    return total, runner.init.ms, first.ms, second.ms, cpu


def medians(runs: list[tuple[float, ...]], names: tuple[str, ...]) -> dict[str, float]:
    """The median of each column of `runs`, by name."""
    return {name: statistics.median(run[index] for run in runs) for index, name in enumerate(names)}


def measure(label: str, package_dir: Path, event_for, env: dict[str, str]) -> dict[str, float]:
    return measure_interleaved({label: (package_dir, event_for, env)})[label]


def measure_interleaved(cases: dict[str, tuple[Path, object, dict[str, str]]]) -> dict[str, dict[str, float]]:
    """RUNS cold starts of each case, taken in turns (case 1, case 2, ..., case 1, ...) so that a change in the load
    of this shared machine falls on every case alike; the median of each."""
    for package_dir, event_for, env in cases.values():
        cold_start(package_dir, event_for, env)  # warm the page cache, as Lambda's worker has the code locally
    runs: dict[str, list[tuple[float, ...]]] = {label: [] for label in cases}
    for _ in range(RUNS):
        for label, (package_dir, event_for, env) in cases.items():
            runs[label].append(cold_start(package_dir, event_for, env))
    results = {}
    for label, measured in runs.items():
        figures = results[label] = medians(measured, ("total", "init", "first", "warm", "cpu"))
        print(
            f"  {label:<34} cold start {figures['total']:7.0f} ms  (import/init {figures['init']:6.0f}, "
            f"first request {figures['first']:5.0f}; warm request {figures['warm']:5.1f}; "
            f"CPU time {figures['cpu']:5.0f})",
            flush=True,
        )
    return results


def restore_start(package_dir: Path, event_for, env: dict[str, str]) -> tuple[float, float, float, float]:
    """(restore to first response, after-restore hooks, first request, second request) ms for one simulated restore."""
    runner = PackagedLambda(package_dir, env)
    try:
        before, restored = runner.snapshot()
        assert before.ok and before.result["sockets"] == [] and before.result["threads"] == ["MainThread"], before
        assert restored is not None and restored.ok, restored and restored.error
        first = runner.invoke(event_for())
        assert first.ok and first.result["statusCode"] == 200, (first.error, first.result)
        second = runner.invoke(event_for())
    finally:
        runner.close()
    return restored.ms + first.ms, restored.ms, first.ms, second.ms


def measure_restore(package_dir: Path, event_for, env: dict[str, str]) -> dict[str, float]:
    restore_start(package_dir, event_for, env)
    figures = medians(
        [restore_start(package_dir, event_for, env) for _ in range(RUNS)], ("total", "hooks", "first", "warm")
    )
    print(
        f"  {'API, SnapStart restore (fork)':<34} restore    {figures['total']:7.0f} ms  (after-restore hooks "
        f"{figures['hooks']:5.0f}, first request {figures['first']:5.0f}; warm request {figures['warm']:5.1f})",
        flush=True,
    )
    return figures


def secret_env() -> dict[str, str]:
    """SECRETS_ID in the harness's moto: the init reads it (both modes), the restore reads it again."""
    client, moto_url = moto_client("secretsmanager")
    name = f"lego-api/bench-{uuid.uuid4().hex[:8]}"
    client.create_secret(Name=name, SecretString=json.dumps({"SECRET_KEY": "bench-" + uuid.uuid4().hex}))
    return {"SECRETS_ID": name, "SECRET_KEY": None, "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_url}


def main_restore(session, lego_event, hello_event) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-restore-") as scratch:
        root = Path(scratch)
        api = packaging.build("dev", output=root / "api.zip", log=lambda _m: None)
        api_dir = unzip(api.zip_path, root / "api")
        floor = packaging.build(
            "dev",
            project_root=hello_project(root / "hello"),
            collectstatic=False,
            openapi=False,
            output=root / "floor.zip",
            log=lambda _m: None,
        )
        floor_dir = unzip(floor.zip_path, root / "floor")
        secret = secret_env()
        api_env = lambda_env(**secret)
        migrate = PackagedLambda(api_dir, api_env)
        assert migrate.invoke({"manage": "migrate --noinput"}, timeout=300).ok
        migrate.close()
        print(f"Python {sys.version.split()[0]}; median of {RUNS} fresh processes each:", flush=True)
        full = measure("API  full cold start", api_dir, lego_event, api_env)
        restore = measure_restore(
            api_dir, lego_event, lambda_env(AWS_LAMBDA_INITIALIZATION_TYPE="snap-start", **secret)
        )
        floor_figures = measure(
            "floor GET /hello (Django+DRF)", floor_dir, hello_event, lambda_env(DJANGO_SETTINGS_MODULE=None)
        )
    ratio = restore["total"] / full["total"]
    print(
        f"\nrestore / full cold start: {ratio:.2f} (goal <= {RESTORE_TARGET}); restore / floor: "
        f"{restore['total'] / floor_figures['total']:.2f}"
    )
    print("within goal" if ratio <= RESTORE_TARGET else "OVER GOAL")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--restore", action="store_true", help="SnapStart: simulated restore vs full cold start")
    args = parser.parse_args()
    session = harness.session()
    issuer = session.issuer
    counter = iter(range(1_000_000))

    def lego_event():
        # A new user each time: the first list of a process is a cache miss, as after a deploy.
        return api_event("GET", "/api/mocs", token=issuer.token(f"bench-user-{next(counter)}"))

    def hello_event():
        return api_event("GET", "/hello")

    if args.restore:
        return main_restore(session, lego_event, hello_event)

    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as scratch:
        root = Path(scratch)
        print("building packages ...", flush=True)
        builds = {}
        for label, kwargs in (
            ("api", {}),
            ("api, no bytecode", {"bytecode": False}),
            ("floor", {"project_root": hello_project(root / "hello"), "collectstatic": False, "openapi": False}),
            (
                "floor, no bytecode",
                {"project_root": root / "hello", "collectstatic": False, "openapi": False, "bytecode": False},
            ),
        ):
            output = root / f"{label.replace(', ', '-').replace(' ', '-')}.zip"
            result = packaging.build("dev", output=output, log=lambda _m: None, **kwargs)
            builds[label] = (result, unzip(result.zip_path, root / output.stem))
            mb = 1024 * 1024
            print(
                f"  {label:<20} {result.zipped_bytes / mb:6.1f} MB zipped {result.unzipped_bytes / mb:6.1f} MB "
                f"unzipped, {result.files} files, built in {result.seconds:.1f}s"
                f"{' (cached tree)' if result.cached else ''}",
                flush=True,
            )

        api_env = lambda_env()
        migrate = PackagedLambda(builds["api"][1], api_env)
        assert migrate.invoke({"manage": "migrate --noinput"}, timeout=300).ok
        migrate.close()
        floor_env = lambda_env(DJANGO_SETTINGS_MODULE=None)
        xray_env = lambda_env(
            XRAY_ENABLED="true",
            LAMBDA_TASK_ROOT=str(builds["api"][1]),
            _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:9",  # UDP into the void: sending costs what it costs on Lambda
        )

        print(f"\ncold starts (median of {RUNS} fresh processes each, the cases in turns):", flush=True)
        labels = {
            "api": "API  GET /api/mocs (authenticated)",
            "api, no bytecode": "API, no bytecode",
            "api, x-ray": "API, XRAY_ENABLED (as deployed)",
            "floor": "floor GET /hello (Django+DRF)",
            "floor, no bytecode": "floor, no bytecode",
        }
        measured = measure_interleaved(
            {
                labels["api"]: (builds["api"][1], lego_event, api_env),
                labels["api, no bytecode"]: (builds["api, no bytecode"][1], lego_event, api_env),
                labels["api, x-ray"]: (builds["api"][1], lego_event, xray_env),
                labels["floor"]: (builds["floor"][1], hello_event, floor_env),
                labels["floor, no bytecode"]: (builds["floor, no bytecode"][1], hello_event, floor_env),
            }
        )
        figures = {key: measured[label] for key, label in labels.items()}

    ratio = figures["api"]["total"] / figures["floor"]["total"]
    cpu_ratio = figures["api"]["cpu"] / figures["floor"]["cpu"]
    init_ratio = figures["api"]["init"] / figures["floor"]["init"]
    saved = figures["api, no bytecode"]["total"] - figures["api"]["total"]
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[0]
    print(
        f"\nCOLD START RATIO API / floor: {ratio:.2f}x (target {TARGET_RATIO}x): "
        f"{figures['api']['total']:.0f} ms / {figures['floor']['total']:.0f} ms, load {load}; "
        f"import/init alone {init_ratio:.2f}x; CPU time {cpu_ratio:.2f}x: {figures['api']['cpu']:.0f} ms / "
        f"{figures['floor']['cpu']:.0f} ms"
    )
    print(
        f"precompiled bytecode saves {saved:.0f} ms on the API's cold start "
        f"({figures['api, no bytecode']['total'] / figures['api']['total']:.2f}x without it), "
        f"{figures['floor, no bytecode']['total'] - figures['floor']['total']:.0f} ms on the floor's"
    )
    xray_cost = figures["api, x-ray"]["total"] - figures["api"]["total"]
    print(f"X-Ray SDK and its patches add {xray_cost:.0f} ms to the cold start")
    api_build = builds["api"][0]
    print(
        f"API package: {api_build.unzipped_bytes / mb:.1f} MB unzipped of Lambda's "
        f"{packaging.MAX_UNZIPPED_BYTES / mb:.0f} MB; boto3+botocore+s3transfer {api_build.boto_bytes / mb:.1f} MB of it"
    )
    print("within target" if ratio <= TARGET_RATIO else "OVER TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
