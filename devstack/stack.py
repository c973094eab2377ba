"""`make dev`: embedded PostgreSQL, the Temporal dev server, migrations and the demo store, then the
api and the worker as child processes, until Ctrl-C (or a child that dies) stops them all."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.service import RPCError

from devstack.migrate import upgrade_database
from devstack.postgres import LocalPostgres, PostgresGuard, start_postgres, stop_postgres_in
from devstack.processes import TerminalOutput, busy_ports, die_with_parent, tail_lines
from devstack.seed import DemoStore, ensure_demo_store
from devstack.temporal import TemporalDevServer, binary, reset_if_broken
from models.database import create_engine, create_sessionmaker
from services.logging import readable

READY_TIMEOUT = 90.0
STOP_GRACE = 20.0
REPORT_LINES = 30


class StackError(Exception):
    """A start that cannot go on; the message says what to do about it."""


@dataclass(frozen=True)
class DevOptions:
    data_dir: Path
    operator_token: str
    database_url: str | None = None  # an existing database instead of the embedded one
    temporal_address: str | None = None  # an existing Temporal instead of the dev server
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    start_api: bool = True
    start_worker: bool = True


class ChildProcess:
    """The api or the worker: its output is shown with a prefix, appended to a log file and its
    last lines kept for the report when it exits on its own."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], log_file: Path, console: Console
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_file = log_file
        self.console = console
        self.last_lines: deque[str] = deque(maxlen=REPORT_LINES)
        self.process: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self._log: IO[bytes] | None = None

    async def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only `make dev`, which stops the children in order.
            start_new_session=True,
            preexec_fn=die_with_parent(),
            limit=1 << 20,
        )
        self._pump = asyncio.create_task(self._show_output())

    async def _show_output(self) -> None:
        assert self.process and self.process.stdout and self._log
        while True:
            try:
                raw = await self.process.stdout.readline()
            except ValueError:  # a line longer than the buffer: take it in pieces
                raw = await self.process.stdout.read(1 << 20)
            if not raw:
                return
            self._log.write(raw)
            self._log.flush()
            line = readable(raw.decode(errors="replace").rstrip())  # the file keeps the JSON
            self.last_lines.append(line)
            self.console.print(Text.assemble((f"{self.name:>6} | ", "dim"), line), soft_wrap=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def wait(self) -> int:
        assert self.process
        code = await self.process.wait()
        if self._pump:
            await self._pump
        return code

    async def stop(self) -> None:
        if self.running:
            assert self.process
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_GRACE)
            except TimeoutError:
                self.console.print(f"[yellow]{self.name} did not stop in {STOP_GRACE:.0f}s: killed")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()
        if self._pump:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pump, 5)
        if self._log:
            self._log.close()
            self._log = None


class DevStack:
    """What one `make dev` started, so that `stop()` can undo exactly that, in reverse order."""

    def __init__(self, options: DevOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.data_dir = options.data_dir.resolve()
        self.postgres: LocalPostgres | None = None
        self.postgres_guard: PostgresGuard | None = None
        self.temporal: TemporalDevServer | None = None
        self.children: list[ChildProcess] = []
        self.database_url = options.database_url or ""
        self.temporal_address = options.temporal_address or ""
        self.demo: DemoStore | None = None
        self._migration: asyncio.Task[None] | None = None

    @property
    def started_anything(self) -> bool:
        return bool(
            self.postgres
            or self.postgres_guard
            or self.temporal
            or self.children
            or self._migration
        )

    def say(self, message: str) -> None:
        self.console.print(f"[green]✓[/] {message}")

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._check_ports()
        # Temporal boots in the background while PostgreSQL starts and the migrations run.
        if not self.options.temporal_address:
            self.temporal = TemporalDevServer(
                port=self.options.temporal_port,
                ui_port=self.options.temporal_ui_port,
                db_file=self.data_dir / "temporal.db",
                log_file=self.data_dir / "temporal.log",
                die_with_parent=True,
                fast_sqlite=True,
            )
            self.temporal.start()
        if not self.options.database_url:
            self.database_url = self._start_postgres()
        # Alembic runs its own event loop, hence the thread; kept so stop() can wait for it.
        self._migration = asyncio.create_task(
            asyncio.to_thread(upgrade_database, self.database_url)
        )
        try:
            await asyncio.shield(self._migration)
        except Exception as exc:
            raise StackError(f"Migrating the database failed: {exc}") from exc
        self.say("database migrated to the newest revision")
        if self.temporal:
            await self._wait_for_temporal(self.temporal)
            self.temporal_address = self.temporal.address
            self.say(f"Temporal dev server ready at {self.temporal_address}")
        else:
            await self._check_temporal(self.temporal_address)
            self.say(f"Temporal reachable at {self.temporal_address}")
        self.demo = await self._seed()
        if self.options.start_api:
            await self._start_api()
        if self.options.start_worker:
            await self._start_child("worker", [binary("shopstar-marketing"), "worker"])

    def _check_ports(self) -> None:
        wanted: list[int] = []
        if not self.options.temporal_address:
            wanted += [self.options.temporal_port, self.options.temporal_ui_port]
        if self.options.start_api:
            wanted.append(self.options.api_port)
        busy = busy_ports("127.0.0.1", wanted)
        if busy:
            raise StackError(
                f"Port {', '.join(map(str, busy))} is already in use on 127.0.0.1: is another "
                "`make dev` (or a Temporal server, or an api) still running? Stop it and start "
                "again, or point TEMPORAL_ADDRESS at the Temporal server you want to use."
            )

    def _start_postgres(self) -> str:
        pgdata = self.data_dir / "postgres"
        first = not (pgdata / "PG_VERSION").exists()
        # Before the start: a `make dev` killed while pg_ctl starts the server leaves none behind.
        self.postgres_guard = PostgresGuard(pgdata)
        try:
            self.postgres = start_postgres(pgdata)
        except Exception as exc:
            stop_postgres_in(pgdata)
            log = "\n".join(tail_lines(pgdata / "log", 15))
            raise StackError(f"PostgreSQL did not start ({exc}).\n{log}") from exc
        self.say(f"PostgreSQL {'initialised and ' if first else ''}started ({pgdata})")
        return self.postgres.url

    async def _wait_for_temporal(self, server: TemporalDevServer) -> None:
        try:
            await server.wait_ready(READY_TIMEOUT)
            return
        except RuntimeError as exc:  # the server exited
            failure = str(exc)
        except TimeoutError as exc:
            raise StackError(f"{exc}\n" + "\n".join(tail_lines(server.log_file, 15))) from exc
        assert server.db_file
        if not reset_if_broken(server.db_file, server.log_file):
            raise StackError(failure)
        self.console.print(
            f"[yellow]! {server.db_file} was left unusable by a Temporal server stopped during its "
            "first start (it holds no history): moved it aside, starting with a fresh one."
        )
        server.start()
        try:
            await server.wait_ready(READY_TIMEOUT)
        except (RuntimeError, TimeoutError) as exc:
            raise StackError(f"Temporal did not start, even with a fresh database: {exc}") from exc

    async def _check_temporal(self, address: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                await Client.connect(address)
                return
            except (RuntimeError, RPCError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise StackError(
                        f"Cannot reach Temporal at {address} (TEMPORAL_ADDRESS): {exc}"
                    ) from exc
                await asyncio.sleep(1)

    async def _seed(self) -> DemoStore:
        engine = create_engine(self.database_url, pool_size=2)
        try:
            demo = await ensure_demo_store(
                create_sessionmaker(engine), self.data_dir / "demo-store.json"
            )
        finally:
            await engine.dispose()
        if demo.created:
            self.say(f"demo store {demo.store_id} created (abandoned_cart flow enabled)")
        else:
            self.say(f"demo store {demo.store_id} kept from an earlier start")
        return demo

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # The unprefixed names are the ones the children read; drop the prefixed ones, which
        # would win over them, so every process uses the servers started here.
        env.pop("SHOPSTAR_DATABASE_URL", None)
        env.pop("SHOPSTAR_TEMPORAL_ADDRESS", None)
        env["DATABASE_URL"] = self.database_url
        env["TEMPORAL_ADDRESS"] = self.temporal_address
        env["PYTHONUNBUFFERED"] = "1"
        return env

    async def _start_child(self, name: str, argv: list[str]) -> ChildProcess:
        log_file = self.data_dir / f"{name}.log"
        child = ChildProcess(name, argv, self._child_env(), log_file, self.console)
        self.children.append(child)
        await child.start()
        return child

    async def _start_api(self) -> None:
        host, port = self.options.api_host, self.options.api_port
        argv = [binary("shopstar-marketing"), "api", "--host", host, "--port", str(port)]
        child = await self._start_child("api", argv)
        url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/healthz"
        deadline = time.monotonic() + READY_TIMEOUT
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if not child.running:
                    raise StackError(self.exit_report(child, await child.wait()))
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise StackError(f"The api did not answer {url} within {READY_TIMEOUT:.0f}s")
                await asyncio.sleep(0.3)
        self.say(f"api answering on http://{host}:{port}")

    def exit_report(self, child: ChildProcess, code: int) -> str:
        lines = "\n".join(child.last_lines) or "(no output)"
        return f"The {child.name} exited (code {code}); its last lines ({child.log_file}):\n{lines}"

    async def wait_for_unexpected_exit(self) -> str:
        """Returns the report of the first process that exits on its own."""
        waits = {asyncio.create_task(child.wait()): child for child in self.children}
        try:
            while True:
                if waits:
                    done, _ = await asyncio.wait(
                        waits, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
                    )
                    for task in done:
                        return self.exit_report(waits[task], task.result())
                else:  # --no-api --no-worker: only the servers to watch
                    await asyncio.sleep(1.0)
                server = self.temporal
                if server and server.process and server.process.poll() is not None:
                    log = "\n".join(tail_lines(server.log_file, REPORT_LINES))
                    return f"The Temporal dev server exited; its log ({server.log_file}):\n{log}"
                if self.postgres and not _postgres_running(self.postgres):
                    log = "\n".join(tail_lines(self.postgres.server.log, REPORT_LINES))
                    return f"PostgreSQL exited; its last lines:\n{log}"
        finally:
            for task in waits:
                task.cancel()

    async def stop(self) -> None:
        await asyncio.gather(*(child.stop() for child in self.children if child.process))
        if self._migration and not self._migration.done():
            with contextlib.suppress(Exception):
                await self._migration
        if self.temporal:
            await asyncio.to_thread(self.temporal.stop)
        if self.postgres:
            await asyncio.to_thread(self.postgres.stop)
        if self.postgres_guard:
            await asyncio.to_thread(self.postgres_guard.release)

    def print_summary(self) -> None:
        assert self.demo
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        table.add_row("Demo store", f"{self.demo.store_id}  ({self.demo.name})")
        table.add_row("Secret key", self.demo.secret_key)
        table.add_row("Publishable key", self.demo.publishable_key)
        table.add_row("Operator token", self.options.operator_token)
        if self.options.start_api:
            base = f"http://{self.options.api_host}:{self.options.api_port}"
            table.add_row("API docs", f"{base}/docs")
        table.add_row("Temporal UI", (self.temporal.ui_url or "-") if self.temporal else "-")
        table.add_row("Temporal", self.temporal_address)
        url = make_url(self.database_url)
        table.add_row("Database", url.render_as_string() if url.password else self.database_url)
        table.add_row("Data", f"{self.data_dir} (kept between starts)")
        table.add_row("", "")
        table.add_row(
            "Next",
            f"export SK={self.demo.secret_key}\n"
            'then follow "What to do next" in README.md (a curl walkthrough).\n'
            "Ctrl-C stops everything.",
        )
        self.console.print(
            Panel(
                table,
                title="ShopSTAR3 marketing engine: the local stack is up",
                border_style="green",
            )
        )


def _postgres_running(postgres: LocalPostgres) -> bool:
    pid = postgres.server.get_pid()
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, run by the server's own system user
        return True
    return True


async def run_dev_stack(options: DevOptions, console: Console) -> int:
    """Start everything, wait for Ctrl-C (or SIGTERM) or a process that dies, stop everything.
    Returns the exit code."""
    stack = DevStack(options, console)

    async def run() -> int:
        await stack.start()
        stack.print_summary()
        report = await stack.wait_for_unexpected_exit()
        console.print(Panel(Text(report), title="stopping: a process died", border_style="red"))
        return 1

    task = asyncio.create_task(run())
    interrupted = False

    def on_signal() -> None:
        nonlocal interrupted
        task.cancel()  # first: stopping must not depend on the message below getting out
        if not interrupted:
            interrupted = True
            console.print("\n[bold]Stopping[/] api, worker, Temporal and PostgreSQL...")

    loop = asyncio.get_running_loop()

    # Nobody reads the output any more (terminal closed, `| tee` ended first): stop, as on Ctrl-C.
    def on_output_gone() -> None:
        loop.call_soon(on_signal)

    output = TerminalOutput(sys.stdout, on_output_gone)
    console.file = cast(IO[str], output)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal)

    async def watch_output() -> None:
        while True:
            output.check()
            await asyncio.sleep(0.5)

    watcher = asyncio.create_task(watch_output())
    try:
        return await task
    except asyncio.CancelledError:
        if not interrupted:
            raise
        return 0
    except StackError as exc:
        await asyncio.sleep(0.2)  # lets a pending SIGINT handler run before deciding
        if interrupted:  # Ctrl-C reached a step in progress (pg_ctl): not a failure to report
            return 0
        console.print(Panel(Text(str(exc)), title="make dev could not start", border_style="red"))
        return 1
    finally:
        watcher.cancel()
        if stack.started_anything:
            await stack.stop()
            console.print(f"Stopped. The data stays in {stack.data_dir}: the next start keeps it.")
