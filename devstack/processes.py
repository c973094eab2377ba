"""Child processes of the local stack: they die with their parent, and their ports are checked
before they start so a busy port gives a clear message instead of a crash log. The stack's own
output may go away (a closed terminal, `make dev | tee log` with tee gone): that stops the stack,
it never crashes it."""

import contextlib
import ctypes
import ctypes.util
import errno
import io
import os
import select
import signal
import socket
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

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


# A write to a pipe nobody reads (EPIPE) or to a terminal that hung up (EIO, ENXIO).
_GONE_ERRNOS = {errno.EPIPE, errno.EIO, errno.ENXIO, errno.EBADF}


class TerminalOutput(io.TextIOBase):
    """The stack's stdout: when nobody reads it any more, `on_gone` is called once and the output
    is dropped from then on (fd 1 goes to /dev/null, so nothing fails at exit either)."""

    def __init__(self, stream: TextIO, on_gone: Callable[[], None]) -> None:
        self._stream = stream
        self._on_gone = on_gone
        self.gone = False

    def _lost(self) -> None:
        if self.gone:
            return
        self.gone = True
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        self._on_gone()

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                self._stream.write(text)
            except OSError as exc:
                if exc.errno not in _GONE_ERRNOS:
                    raise
                self._lost()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except OSError as exc:
                if exc.errno not in _GONE_ERRNOS:
                    raise
                self._lost()

    def isatty(self) -> bool:
        return not self.gone and self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def check(self) -> None:
        """Notice a reader that went away while nothing was written: a pipe whose reader closed
        reports POLLERR, a terminal that hung up POLLHUP."""
        if self.gone:
            return
        try:
            poller = select.poll()
            poller.register(self._stream.fileno(), 0)
            events = poller.poll(0)
        except (OSError, ValueError):
            return
        if any(ev & (select.POLLERR | select.POLLHUP | select.POLLNVAL) for _, ev in events):
            self._lost()
