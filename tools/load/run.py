"""`python -m tools.load {load,max,fault}`: run the Locust scenarios against the local production-like stack (or a
deployed stage with `--target`) and write a report folder with Locust's HTML report, its CSV stats and summary.md.

Local runs start the stack with tools/devstack's pieces (plan_stack, start_services, stack_env,
production_like_env, server_command: the same services and gunicorn command as `make stack WORKERS=4`), migrate,
seed with `manage.py seed_demo --if-missing` (which refills the in-memory search emulator), mint one
local-issuer token per seeded user (lego_api.core.jwt_keys.mint_local_token, the code of `manage.py devtoken`),
capture gunicorn's output (the JSON request log) in the report folder, run Locust headless with the plan's shape,
and stop everything afterwards. `fault` pauses Redis, then OpenSearch (Service.pause, SIGSTOP) on the plan's
schedule. Local runs exit non-zero on failed requests only; `--target` runs also on a missed PRD goal.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tools.load import plan as plans
from tools.load.summary import RunInfo, save_info, write_report

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPORTS = PROJECT_ROOT / "reports" / "load"
LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")

# Rate limits for local runs: the limiter stays on (every request still pays its Redis increments, and its headers
# are sent), with windows no run here can fill, so a 429 never is what the test measures (SPEC §2.4 defaults are
# 100/900 general, 10/3600 upload per user).
LOCAL_RATE_LIMITS = {
    "RATE_LIMIT_ENABLED": "true",
    "RATE_LIMIT_GENERAL": "1000000/900",
    "RATE_LIMIT_UPLOAD": "100000/3600",
    "RATE_LIMIT_AUTH": "10000/900",
}
SEED_PREFIX = "demo-"


def _say(message: str) -> None:
    print(f"load: {message}", file=sys.stderr, flush=True)


def report_folder(name: str, root: Path = REPORTS) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = root / f"{stamp}-{name}"
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


class LoadSampler(threading.Thread):
    """The 1-minute load average every 5 s during the run (the machine is shared: figures need it beside them)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(5):
            with contextlib.suppress(ValueError, IndexError):
                self.samples.append(float(loadavg().split()[0]))


# --- local stack -------------------------------------------------------------------------------------------------


def _manage(*args: str, output: Path | None = None) -> str:
    command = [sys.executable, str(PROJECT_ROOT / "manage.py"), *args]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)  # noqa: S603
    if output is not None:
        with output.open("a") as log:
            log.write(f"$ manage.py {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def local_stack(root: Path, folder: Path, *, workers: int, users: int, mocs: int) -> Iterator[tuple[str, dict]]:
    """Start the full stack and gunicorn (production-like), seed if needed; yields (base URL, services by name)."""
    from tools.devstack import free_port, plan_stack, stack_env, start_services, stop_all
    from tools.devstack.cli import api_server, production_like_env

    services = plan_stack(root, full=True)
    _say(f"starting {', '.join(s.name for s in services)} (data in {root})")
    server = None
    try:
        start_services(services)
        os.environ.update(stack_env(services))
        os.environ.setdefault("LOCAL_DIR", str(root))
        os.environ.update(production_like_env())
        os.environ.update(LOCAL_RATE_LIMITS)
        os.environ["LOG_LEVEL"] = "INFO"  # one JSON line per request: durationMs for the cost report
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lego_api.settings")
        setup_log = folder / "setup.log"
        _manage("migrate", "--noinput", output=setup_log)
        _manage("ensure_local_keys", output=setup_log)
        seeded = _manage(
            "seed_demo", "--users", str(users), "--mocs", str(mocs), "--prefix", SEED_PREFIX, "--if-missing",
            output=setup_log,
        )  # fmt: skip
        _say(seeded.strip().splitlines()[-1])
        server = api_server(free_port(), workers, folder / "server.log")
        server.start()
        _say(f"gunicorn with {workers} workers on {server.where}")
        yield server.where, {service.name: service for service in services}
    finally:
        if server is not None:
            server.stop()
        stop_all(services)


def local_pool(users: int, ttl: int) -> list[dict]:
    """One local-issuer token per seeded user (the code of `manage.py devtoken`)."""
    import django

    django.setup()
    from lego_api.core.jwt_keys import mint_local_token
    from lego_api.core.seeding import demo_user_ids

    return [
        {"userId": user_id, "token": mint_local_token(user_id, email=f"{user_id}@example.com", ttl=ttl)}
        for user_id in demo_user_ids(SEED_PREFIX, users)
    ]


def cognito_pool(ttl_hint: int, users: int | None = None) -> list[dict]:
    """Id tokens of the Cognito test users LOAD_USER_PREFIX + 0001 ... LOAD_USER_COUNT (default `users`), signed in
    with USER_PASSWORD_AUTH (see README)."""
    import boto3
    import jwt

    client_id = os.environ["LOAD_COGNITO_CLIENT_ID"]
    region = os.environ.get("LOAD_COGNITO_REGION", "us-east-1")
    prefix = os.environ.get("LOAD_USER_PREFIX", "loadtest-")
    count = int(os.environ.get("LOAD_USER_COUNT") or users or 0)
    if count < 1:
        raise SystemExit("load: set LOAD_USER_COUNT (or USERS): how many Cognito test users to sign in")
    password = os.environ["LOAD_USER_PASSWORD"]
    cognito = boto3.client("cognito-idp", region_name=region)
    pool = []
    for index in range(1, count + 1):
        username = f"{prefix}{index:04d}"
        answer = cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        token = answer["AuthenticationResult"]["IdToken"]
        claims = jwt.decode(token, options={"verify_signature": False})  # the API's user id is the token's sub
        pool.append({"userId": claims["sub"], "token": token})
    _say(f"{len(pool)} Cognito tokens (valid about an hour; the run takes {ttl_hint} s)")
    return pool


# --- the run -----------------------------------------------------------------------------------------------------


def _started_epoch(folder: Path, locust: subprocess.Popen, timeout: float = 120) -> float | None:
    marker = folder / "started.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and locust.poll() is None:
        if marker.exists():
            with contextlib.suppress(ValueError):
                return json.loads(marker.read_text())["epoch"]
        time.sleep(0.1)
    return None


def _sleep_until(epoch: float, locust: subprocess.Popen) -> bool:
    while time.time() < epoch:
        if locust.poll() is not None:
            return False
        time.sleep(min(0.1, max(0.0, epoch - time.time())))
    return True


def drive_faults(plan: plans.Plan, services: dict, started: float, locust: subprocess.Popen, folder: Path) -> None:
    """Pause and resume the plan's services on schedule; record the real times in faults.json."""
    done = []
    for fault in plan.faults:
        service = services[fault.service]
        if not _sleep_until(started + fault.start, locust):
            break
        service.pause()
        paused_at = time.time()
        _say(f"{fault.service} paused")
        try:
            _sleep_until(started + fault.start + fault.seconds, locust)
        finally:
            service.resume()
        _say(f"{fault.service} resumed")
        done.append({"service": fault.service, "paused": paused_at, "resumed": time.time()})
        (folder / "faults.json").write_text(json.dumps(done, indent=2))


def drive_fallback(plan: plans.Plan, started: float, locust: subprocess.Popen, period: float = 6.0) -> None:
    """Hold the search:down switch on for `fallback_share` of every `period` s, so that searches are answered by
    the PostgreSQL fallback (SPEC §6.2: what an engine error or timeout does, for 30 s) that share of the time."""
    from django.core.cache import cache

    from lego_api.core.search import SEARCH_DOWN_KEY

    period = min(period, plan.seconds)
    on = plan.fallback_share * period
    cycle = 0
    while on > 0 and locust.poll() is None:
        at = started + cycle * period + (period - on) / 2  # the fallback in the middle of each period
        if not _sleep_until(at, locust):
            return
        cache.set(SEARCH_DOWN_KEY, 1, max(1, round(on)))
        cycle += 1


def run_locust(
    folder: Path, base: str, plan: plans.Plan, pool: list[dict], *, services: dict | None, equal_weights: bool = False
) -> int:
    plan.save(folder / "plan.json")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:  # tokens stay out of the report
        json.dump(pool, handle)
        pool_path = Path(handle.name)
    os.chmod(pool_path, 0o600)
    env = {
        **os.environ,
        "LOAD_PLAN": str(folder / "plan.json"),
        "LOAD_POOL": str(pool_path),
        "LOAD_REPORT": str(folder),
        "PYTHONPATH": str(PROJECT_ROOT),
        **({"LOAD_EQUAL_WEIGHTS": "1"} if equal_weights else {}),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
        "--csv", str(folder / "locust"), "--csv-full-history", "--html", str(folder / "report.html"),
        "--loglevel", "WARNING", "--stop-timeout", "10", "--exit-code-on-error", "0",
    ]  # fmt: skip
    try:
        with (folder / "locust.log").open("wb") as log:
            locust = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            try:
                started = _started_epoch(folder, locust)
                if started is not None and services is not None:
                    if plan.faults:
                        drive_faults(plan, services, started, locust, folder)
                    elif plan.fallback_share > 0:
                        drive_fallback(plan, started, locust)
                return locust.wait()
            except BaseException:
                locust.send_signal(signal.SIGINT)
                locust.wait(30)
                raise
    finally:
        pool_path.unlink(missing_ok=True)


def build_plan(args: argparse.Namespace) -> plans.Plan:
    if args.mode == "max":
        return plans.max_plan(start=args.max_start, step=args.max_step, ceiling=args.max_ceiling)
    if args.mode == "fault":
        return plans.fault_plan(args.rate)
    return plans.load_plan(
        args.rate,
        args.duration,
        args.spike_rate,
        args.spike_duration,
        fallback_share=0.0 if args.target else args.fallback_share,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.load", description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["load", "max", "fault"])
    parser.add_argument("--target", help="a deployed stage's base URL (Cognito token pool; see README)")
    parser.add_argument("--rate", type=float, default=100, help="requests per second (default 100)")
    parser.add_argument("--duration", type=float, default=60, help="seconds at --rate (default 60)")
    parser.add_argument("--spike-rate", type=float, default=500, help="spike requests per second (default 500)")
    parser.add_argument("--spike-duration", type=float, default=20, help="spike seconds (default 20; 0: none)")
    parser.add_argument("--users", type=int, default=100, help="distinct token holders (seeded users; default 100)")
    parser.add_argument("--mocs", type=int, default=50, help="MOCs per seeded user (default 50)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT / ".local", help="the stack's data (default .local)")
    parser.add_argument("--reports", type=Path, default=REPORTS, help="where report folders go (reports/load)")
    parser.add_argument("--name", help="report folder name suffix (default: the mode)")
    parser.add_argument("--fallback-share", type=float, default=1 / 3, help="share of time search:down is held")
    parser.add_argument("--logs", type=Path, help="TARGET: a file of CloudWatch log lines of the run (REPORT lines)")
    parser.add_argument("--traffic", type=float, default=10_000_000, help="requests per month for the projection")
    parser.add_argument("--equal-weights", action="store_true", help="every scenario equally likely (smoke test)")
    parser.add_argument("--max-start", type=int, default=plans.MAX_START)
    parser.add_argument("--max-step", type=int, default=plans.MAX_STEP)
    parser.add_argument("--max-ceiling", type=int, default=plans.MAX_CEILING)
    args = parser.parse_args(argv)
    if args.target and args.mode == "fault":
        parser.error("the fault run is local only (it pauses the local services)")
    plan = build_plan(args)
    folder = report_folder(args.name or args.mode, args.reports)
    _say(f"report folder {folder}")
    sampler = LoadSampler()
    info = RunInfo(
        mode=args.mode,
        target=args.target,
        workers=None if args.target else args.workers,
        users=args.users,
        loadavg_before=loadavg(),
        traffic=args.traffic,
        cloudwatch_logs=args.logs,
    )
    sampler.start()
    if args.target:
        pool = cognito_pool(int(plan.seconds), args.users)
        info.users = len(pool)
        run_locust(folder, args.target.rstrip("/"), plan, pool, services=None, equal_weights=args.equal_weights)
    else:
        with local_stack(args.root, folder, workers=args.workers, users=args.users, mocs=args.mocs) as (base, services):
            pool = local_pool(args.users, ttl=int(plan.seconds) + 3600)
            run_locust(folder, base, plan, pool, services=services, equal_weights=args.equal_weights)
    sampler.done.set()
    info.loadavg_after = loadavg()
    info.loadavg_peak = max(sampler.samples, default=None)
    save_info(folder, info)
    verdict = write_report(folder, info)
    print((folder / "summary.md").read_text())
    _say(f"report: {folder}")
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
