"""Loopback ports and readiness probes for the local services."""

from __future__ import annotations

import json
import random
import socket
import urllib.error
import urllib.request
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on `host` right now, outside the ephemeral range (see `_free_ports`)."""
    return _free_ports(1, host)[0]


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for outgoing connections' source ports (Linux's default when it cannot be read)."""
    try:
        low, high = (int(part) for part in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


# Where our servers' ports come from: below the ephemeral range. A port the OS hands out for bind(0) is an
# ephemeral one, and between our choosing it and the server binding it any outgoing connection (a test's client,
# another service's) may take it as its source port: "address already in use" at start-up.
PORT_RANGE_START = 20000


def _free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """`count` distinct ports that are free on `host` now, drawn at random below the ephemeral range (all the
    sockets held open together, so no duplicates); from the OS's ephemeral choice when that range is too small."""
    low, _ = _ephemeral_range()
    candidates = list(range(PORT_RANGE_START, low)) if low - PORT_RANGE_START >= 1000 else []
    random.SystemRandom().shuffle(candidates)
    sockets: list[socket.socket] = []
    try:
        for port in candidates:
            if len(sockets) == count:
                break
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
        while len(sockets) < count:  # no room below the ephemeral range: let the OS choose
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
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


def remembered_ports(root: Path, name: str, count: int) -> list[int]:
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


def http_answers(url: str, timeout: float = 1.0) -> bool:
    """True when something answers HTTP at `url`, whatever the status (proxy settings ignored: it is loopback)."""
    try:
        with _no_proxy_opener.open(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when `url` answers 200 (proxy settings ignored: it is loopback)."""
    try:
        with _no_proxy_opener.open(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
