"""Loopback ports and readiness probes for the local services."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

LOOPBACK = "127.0.0.1"


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


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
