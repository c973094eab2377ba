"""A throwaway stack for one benchmark: embedded PostgreSQL (migrated) and the Temporal dev server
(file-backed, as `make dev` runs it) in a temporary folder, the api (uvicorn) and the worker as
child processes, stores with keys, and the events the platform sends. Everything listens on
127.0.0.1 (PostgreSQL on a Unix socket) and is stopped and deleted on the way out."""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from config import Settings
from devstack.migrate import PROJECT_ROOT, upgrade_database
from devstack.postgres import LocalPostgres, start_postgres
from devstack.processes import die_with_parent, tail_lines
from devstack.temporal import TemporalDevServer, binary, free_port
from models.database import SessionMaker, create_engine, create_sessionmaker
from services.events.routing import cart_workflow_id as cart_workflow_id  # re-exported

OPERATOR_TOKEN = "bench-operator-token"
READY_TIMEOUT = 90.0
STOP_GRACE = 15.0
WEEK = 7 * 86400


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the `finally` blocks stop the servers."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


@dataclass
class BenchStack:
    workdir: Path
    postgres: LocalPostgres
    temporal: "BenchTemporal"
    database_url: str
    task_queue: str
    sessionmaker: SessionMaker

    @property
    def temporal_address(self) -> str:
        return self.temporal.address

    def settings(self, **overrides: Any) -> Settings:
        """The settings the api and the worker get (production defaults for the relay)."""
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": self.database_url,
            "temporal_address": self.temporal_address,
            "operator_token": OPERATOR_TOKEN,
            "task_queue": self.task_queue,
            "log_level": "WARNING",
        }
        return Settings(**(values | overrides))

    def child_env(self, temporal_address: str | None = None) -> dict[str, str]:
        """Environment of the api and worker processes: no SHOPSTAR_ setting of the caller's
        shell leaks in, so every run measures the same configuration."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSTAR_")}
        # Bytecode as the image has it (Dockerfile: compileall): without it the worker's sandbox
        # compiles a workflow's module from source at every run it creates or replays.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(
            DATABASE_URL=self.database_url,
            TEMPORAL_ADDRESS=temporal_address or self.temporal_address,
            SHOPSTAR_ENVIRONMENT="test",
            SHOPSTAR_OPERATOR_TOKEN=OPERATOR_TOKEN,
            SHOPSTAR_TASK_QUEUE=self.task_queue,
            SHOPSTAR_LOG_LEVEL="WARNING",
            # A load test is many requests from one address and one key: the limits say 0.
            SHOPSTAR_PUBLIC_RATE_LIMIT="0",
            SHOPSTAR_KEY_RATE_LIMIT="0",
            PYTHONUNBUFFERED="1",
            # The tree this benchmark runs from, also for `shopstar-marketing` (a console
            # script, whose own folder comes first on sys.path): else a worktree's benchmark
            # would run the worker of the tree the virtualenv was installed from (editable).
            PYTHONPATH=os.pathsep.join(
                p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        )
        return env

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.sessionmaker() as session:
            return (await session.execute(text(sql), params)).scalar()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.sessionmaker() as session:
            return list((await session.execute(text(sql), params)).all())

    async def execute(self, sql: str, **params: Any) -> None:
        async with self.sessionmaker.begin() as session:
            await session.execute(text(sql), params)

    async def undelivered(self) -> int:
        return int(await self.scalar("SELECT count(*) FROM events WHERE delivered_at IS NULL"))


# How the dev server keeps its data. "file" is how `make dev` runs it (devstack/stack.py asks
# for `fast_sqlite`: SQLite's write-ahead log, no fsync per commit); "file-sync" is the file
# with SQLite's defaults (rollback journal, fsyncs on every commit: TemporalDevServer's default
# and what `make dev` did before); "file-wal" names the WAL pragmas outright (today the same as
# "file"); "memory" keeps nothing.
TEMPORAL_MODES = {
    "file": "file-backed, as make dev (WAL)",
    "file-sync": "file-backed, SQLite defaults (fsync per commit)",
    "file-wal": "file-backed, WAL + synchronous=normal",
    "memory": "in-memory",
}
WAL_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]


@dataclass
class BenchTemporal(TemporalDevServer):
    mode: str = "file"

    def command(self) -> list[str]:
        command = super().command()
        if self.mode == "file-wal" and WAL_PRAGMAS[1] not in command:
            command += WAL_PRAGMAS
        return command


def temporal_server(workdir: Path, mode: str = "file") -> BenchTemporal:
    """A headless dev server on free ports, its database (if any) in `workdir`."""
    if mode not in TEMPORAL_MODES:
        raise ValueError(f"unknown Temporal mode {mode!r}: one of {', '.join(TEMPORAL_MODES)}")
    return BenchTemporal(
        port=free_port(),
        ui_port=None,
        db_file=None if mode == "memory" else workdir / f"temporal-{mode}.db",
        log_file=workdir / f"temporal-{mode}.log",
        die_with_parent=True,
        fast_sqlite=mode == "file",
        mode=mode,
    )


@contextlib.asynccontextmanager
async def running_temporal(workdir: Path, mode: str) -> AsyncIterator[BenchTemporal]:
    """A further dev server beside the stack's (to compare persistence modes)."""
    server = temporal_server(workdir, mode)
    server.start()
    try:
        await server.wait_ready(READY_TIMEOUT)
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@contextlib.asynccontextmanager
async def bench_stack(
    name: str, *, temporal_mode: str = "file", keep: bool = False
) -> AsyncIterator[BenchStack]:
    """PostgreSQL + Temporal (file-backed unless told) in a fresh temporary folder, migrated and
    ready; everything stopped and the folder deleted on the way out."""
    workdir = Path(tempfile.mkdtemp(prefix=f"shopstar-bench-{name}-"))
    temporal = temporal_server(workdir, temporal_mode)
    postgres: LocalPostgres | None = None
    engine = None
    try:
        temporal.start()  # boots while PostgreSQL starts and migrates
        postgres = await asyncio.to_thread(start_postgres, workdir / "pg")
        await asyncio.to_thread(upgrade_database, postgres.url)
        await temporal.wait_ready(READY_TIMEOUT)
        engine = create_engine(postgres.url, pool_size=10)
        yield BenchStack(
            workdir=workdir,
            postgres=postgres,
            temporal=temporal,
            database_url=postgres.url,
            task_queue=f"bench-{uuid.uuid4().hex[:8]}",
            sessionmaker=create_sessionmaker(engine),
        )
    except BaseException:
        keep = True  # the logs tell what went wrong
        print(f"benchmark failed: logs kept in {workdir}", file=sys.stderr)
        raise
    finally:
        if engine is not None:
            await engine.dispose()
        await asyncio.to_thread(temporal.stop)
        if postgres is not None:
            await asyncio.to_thread(postgres.stop)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


class BenchProcess:
    """A benchmarked child (unlike make dev's ChildProcess, its output goes to a file only), in
    its own process group (uvicorn with several workers forks), killed with its
    whole group on stop and by the kernel if this process dies."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_file: Path) -> None:
        self.name = name
        self.log_file = log_file
        self.base_url = ""  # for a server
        with log_file.open("ab") as out:
            self.process = subprocess.Popen(
                argv,
                env=env,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )

    def check_running(self) -> None:
        if self.process.poll() is not None:
            log = "\n".join(tail_lines(self.log_file, 20))
            raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        # Workers of a multi-process uvicorn may outlive their parent by a moment.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def api_process(stack: BenchStack, *, workers: int = 1) -> AsyncIterator[BenchProcess]:
    """`uvicorn api.main:create_app --factory` with `workers` processes (see `.base_url`)."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    argv += ["--log-level", "warning", "--no-access-log"]
    child = BenchProcess("api", argv, stack.child_env(), stack.workdir / f"api-{port}.log")
    child.base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=child.base_url, timeout=2) as client:

            async def healthy() -> bool:
                child.check_running()
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get("/healthz")).status_code == 200
                return False

            await wait_until(healthy, READY_TIMEOUT, "the api to answer /healthz")
        yield child
    finally:
        await asyncio.to_thread(child.stop)


@contextlib.asynccontextmanager
async def worker_process(stack: BenchStack) -> AsyncIterator[BenchProcess]:
    """`shopstar-marketing worker`: the Temporal worker and the relay, as in production."""
    argv = [binary("shopstar-marketing"), "worker"]
    child = BenchProcess("worker", argv, stack.child_env(), stack.workdir / "worker.log")
    try:
        await asyncio.sleep(1.0)
        child.check_running()
        yield child
    finally:
        await asyncio.to_thread(child.stop)


async def wait_until(
    done: Callable[[], Awaitable[bool]], within: float, what: str, interval: float = 0.1
) -> float:
    """Poll until `done()`; returns when it was seen true (monotonic). A deadline loop rather
    than asyncio.timeout, so a slow check is never cut off half-way."""
    deadline = time.monotonic() + within
    while not await done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(interval)
    return time.monotonic()


# --- the store, its flow and the platform's events -----------------------------------------


@dataclass(frozen=True)
class BenchStore:
    id: str
    secret_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}


async def create_store(api: httpx.AsyncClient, name: str) -> BenchStore:
    response = await api.post(
        "/v1/stores",
        json={"name": name, "currency": "USD", "timezone": "America/New_York"},
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    response.raise_for_status()
    body = response.json()
    keys = {k["kind"]: k["key"] for k in body["keys"]}
    return BenchStore(id=body["id"], secret_key=keys["secret"])


def waiting_flow(trigger_delay_seconds: int = WEEK) -> dict[str, Any]:
    """An enabled abandoned-cart flow whose first step is a week away: every run just waits."""
    return {
        "enabled": True,
        "trigger_delay_seconds": trigger_delay_seconds,
        "steps": [
            {
                "delay_seconds": 0,
                "channel": "email",
                "template": {"subject": "Your cart", "body": "Hi {{ link }}"},
            }
        ],
        "suppression": {"similar_message_window_seconds": 0, "recent_order_window_seconds": 0},
    }


async def enable_flow(api: httpx.AsyncClient, store: BenchStore, flow: dict[str, Any]) -> None:
    response = await api.put("/v1/flows/abandoned_cart", json=flow, headers=store.headers)
    response.raise_for_status()


async def post_events(
    api: httpx.AsyncClient, store: BenchStore, events: list[dict[str, Any]]
) -> httpx.Response:
    response = await api.post("/v1/events", json={"events": events}, headers=store.headers)
    if response.status_code != 202:
        raise RuntimeError(f"POST /v1/events: {response.status_code} {response.text[:500]}")
    return response


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def event(kind: str, data: dict[str, Any], at: str | None = None) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": kind,
        "occurred_at": at or now_iso(),
        "data": data,
    }


def line(product_id: str, quantity: int = 1, unit_price: int = 4900) -> dict[str, Any]:
    return {"product_id": product_id, "quantity": quantity, "unit_price": unit_price}


def customer_upserted(customer_id: str) -> dict[str, Any]:
    return event(
        "customer.upserted",
        {
            "customer_id": customer_id,
            "email": f"{customer_id}@example.com",
            "phone": "+14155550123",
            "first_name": "Ana",
            "consent": {"email": True, "sms": True},
        },
    )


def product_upserted(product_id: str) -> dict[str, Any]:
    return event(
        "product.upserted",
        {
            "product_id": product_id,
            "title": "Linen shirt",
            "price": 4900,
            "currency": "USD",
            "category_ids": ["shirts"],
            "available": True,
        },
    )


def cart_updated(
    cart_id: str, customer_id: str | None, items: list[dict[str, Any]]
) -> dict[str, Any]:
    data: dict[str, Any] = {"cart_id": cart_id, "currency": "USD", "items": items}
    if customer_id:
        data["customer_id"] = customer_id
    return event("cart.updated", data)


def order_placed(order_id: str, customer_id: str, cart_id: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer_id,
        "currency": "USD",
        "items": [line("p_1")],
        "total": 4900,
    }
    if cart_id:
        data["cart_id"] = cart_id
    return event("order.placed", data)


# --- where the CPU goes ---------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used) for every process we can read (Linux), with what
    its exited children used (cutime, cstime): a PostgreSQL backend of a connection that was
    opened and closed between two snapshots counts under PostgreSQL, not under "others"."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        stats[int(entry.name)] = (int(fields[1]), ticks / _TICKS)
    return stats


class CpuMeter:
    """CPU seconds used by named process trees between two snapshots: on a 2-core machine the
    client, the api, the worker, PostgreSQL and Temporal share 200% of CPU."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self._last: dict[str, float] = {}
        self._at = 0.0

    def _totals(self) -> dict[str, float]:
        stats = _proc_stats()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        roots = set(self.roots.values())
        totals: dict[str, float] = {}
        for name, root in self.roots.items():
            todo, used = [root], 0.0
            while todo:
                pid = todo.pop()
                used += stats.get(pid, (0, 0.0))[1]
                # A child that is another tree's root (the api under this process) counts there.
                todo += [c for c in children.get(pid, []) if c not in roots]
            totals[name] = used
        totals["machine"] = _machine_busy()
        totals["cpu pressure"] = _cpu_pressure()
        return totals

    def start(self) -> None:
        self._last = self._totals()
        self._at = time.monotonic()

    def percent(self) -> dict[str, float]:
        """Percent of one CPU used by each tree since `start()` (up to 100 x cores); then
        "others": what the rest of the machine used meanwhile (other people's processes), and
        "cpu pressure": the share of the time some runnable task waited for a CPU."""
        wall = max(time.monotonic() - self._at, 1e-9)
        now = self._totals()
        used = {k: 100 * (now[k] - self._last.get(k, 0.0)) / wall for k in now}
        mine = sum(v for k, v in used.items() if k in self.roots)
        out: dict[str, float] = {k: round(used[k]) for k in self.roots}
        out["others"] = max(0, round(used["machine"] - mine))
        out["cpu pressure"] = round(used["cpu pressure"])
        return out


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / _TICKS


def _cpu_pressure() -> float:
    """Seconds during which some task waited for a CPU (Linux PSI), since boot."""
    try:
        some = Path("/proc/pressure/cpu").read_text().split("\n", 1)[0]
        return int(some.rsplit("total=", 1)[1]) / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


def stack_processes(stack: BenchStack, **children: BenchProcess) -> dict[str, int]:
    """Roots for a CpuMeter: this process, PostgreSQL, Temporal and the given children."""
    roots = {"bench process": os.getpid()}
    pg = stack.postgres.server.get_pid()
    if pg:
        roots["postgres"] = pg
    if stack.temporal.process:
        roots["temporal"] = stack.temporal.process.pid
    roots.update({name: child.process.pid for name, child in children.items()})
    return roots
