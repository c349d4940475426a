"""The watchdog: a tiny separate process that stops our services should this process die without doing it
(e.g. SIGKILL). Services register the processes to stop with `watchdog.watch(pid, signal)`."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

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


class Watchdog:
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


watchdog = Watchdog()  # the one every service of this process registers with
