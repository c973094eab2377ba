"""Child processes of the local stack: they die with their parent, and their ports are checked
before they start so a busy port gives a clear message instead of a crash log."""

import ctypes
import ctypes.util
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _load_prctl()


def die_with_parent() -> Callable[[], None]:
    """A `preexec_fn` that makes the kernel send SIGTERM to the child when this process dies, even
    by SIGKILL, so no server is left holding a port (Linux only; elsewhere a no-op)."""
    parent = os.getpid()

    def preexec() -> None:
        if _prctl is None:
            return
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def port_in_use(host: str, port: int) -> bool:
    """Whether something listens on the port (SO_REUSEADDR, as servers bind, so connections left
    in TIME_WAIT by a server that just stopped do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def busy_ports(host: str, ports: Iterable[int]) -> list[int]:
    return [port for port in ports if port_in_use(host, port)]


def tail_lines(path: Path, count: int = 30) -> list[str]:
    """The last lines of a log file (empty when it does not exist)."""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 64 * 1024))
            text = log.read().decode(errors="replace")
    except OSError:
        return []
    return text.splitlines()[-count:]
