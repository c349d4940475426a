"""A local service as the stack, the harness and the fault tests see it: the environment variables pointing at
it, start (or restart on the same port), stop, pause/resume (SIGSTOP/SIGCONT, as a hung server or a partition), and
`ProcessService`, one child process whose output goes to a log file. Importable before Django is configured."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tools.devstack.watchdog import watchdog

START_TIMEOUT = 60.0
STOP_GRACE = 5.0


class ServiceError(RuntimeError):
    """A service did not start; the message ends with the tail of its log."""


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
        watchdog.watch(self._process.pid)
        try:
            _wait_until_ready(self, self._ready, deadline)
        except BaseException:
            self._stop()
            raise

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        terminate(process, grace=self._stop_grace)
        watchdog.forget(process.pid)
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


def terminate(process: subprocess.Popen[Any], sig: int = signal.SIGTERM, grace: float = STOP_GRACE) -> None:
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
