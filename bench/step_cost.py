"""What one flow step costs the worker: the gate-and-send activity called in process against a
real PostgreSQL, with the `log` provider (no network). Prints CPU and wall time per step and the
SQL statements and transactions it runs, beside a baseline of one trivial statement in its own
transaction on the same engine.

Then the same number of steps again in bursts (as a wave of due steps reaches a worker), with the
worker's pool and its cap on steps at once (worker.py), and then with the pool of a plain engine
and no cap: PostgreSQL's CPU per step and the connections opened, which a pool smaller than the
steps at once opens and closes over and over (a new backend each time).

`.venv/bin/python -m bench.step_cost [--steps 2000] [--profile N]`: with `--profile`, the steps
run a second time under cProfile and its top N entries by own time are printed."""

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import event, text
from temporalio.testing import ActivityEnvironment

import models.database as database_module
from activities.flow_steps import FlowActivities
from api.main import create_app
from bench.flow_config import FLOW
from bench.report import Report, publish
from bench.stack import (
    OPERATOR_TOKEN,
    CpuMeter,
    cart_updated,
    create_store,
    customer_upserted,
    enable_flow,
    line,
    post_events,
    product_upserted,
)
from config import Settings
from devstack.migrate import upgrade_database
from devstack.postgres import LocalPostgres, start_postgres
from flow_contract import FlowKind, RunStep
from integrations.messaging import LogProvider
from models.database import create_engine, create_sessionmaker
from worker import LOCAL_STEPS_AT_ONCE, WORKER_POOL

console = Console()
BURST = 120  # steps due at once


@asynccontextmanager
async def database() -> AsyncIterator[LocalPostgres]:
    with tempfile.TemporaryDirectory(prefix="shopstar-bench-step-") as folder:
        postgres = start_postgres(Path(folder) / "pg")
        try:
            await asyncio.to_thread(upgrade_database, postgres.url)
            yield postgres
        finally:
            postgres.stop()


async def seed(url: str, carts: int) -> str:
    settings = Settings(database_url=url, operator_token=OPERATOR_TOKEN, environment="test")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as api,
    ):
        store = await create_store(api, "step cost")
        await enable_flow(api, store, FLOW)
        people = [customer_upserted(f"c{i}") for i in range(carts)]
        cart_events = [cart_updated(f"k{i}", f"c{i}", [line("p_1")]) for i in range(carts)]
        events = [product_upserted("p_1"), *people, *cart_events]
        for i in range(0, len(events), 500):
            await post_events(api, store, events[i : i + 500])
        return store.id


async def run(steps: int, profile: int = 0) -> Report:
    report = Report(name="step_cost", title=f"One flow step in process: {steps:,} steps")
    async with database() as postgres:
        url = postgres.url
        store_id = await seed(url, (3 + bool(profile)) * steps)
        engine = create_engine(url)
        statements = {"sql": 0, "commits": 0, "connects": 0}

        def count(*_: Any) -> None:
            statements["sql"] += 1

        def commit(*_: Any) -> None:
            statements["commits"] += 1

        def connect(*_: Any) -> None:
            statements["connects"] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        # Statements sent on the driver (models.database.SessionStatements) pass no event.
        on_driver = database_module._on_driver

        async def counted_on_driver(*args: Any) -> Any:
            count()
            return await on_driver(*args)

        database_module._on_driver = counted_on_driver  # type: ignore[assignment]
        event.listen(engine.sync_engine, "commit", commit)
        event.listen(engine.sync_engine, "connect", connect)
        sessionmaker = create_sessionmaker(engine)
        activities = FlowActivities(sessionmaker, LogProvider(), "https://shop.example")
        env = ActivityEnvironment()

        async def baseline() -> None:
            async with sessionmaker.begin() as session:
                await session.execute(text("select 1"))

        base_cpu, base_wall = await timed(steps, lambda i: baseline())
        statements.update(sql=0, commits=0, connects=0)

        async def one(i: int) -> None:
            outcome = await env.run(activities.run_flow_step, first_step(store_id, i))
            assert outcome.status == "sent", outcome

        cpu, wall = await timed(steps, one)
        counted = dict(statements)
        await engine.dispose()
        postmaster = postgres.server.get_pid()
        assert postmaster is not None
        bursts = {
            f"pool {pool}, {at_once} steps at once": await in_bursts(
                url, store_id, range(k * steps, (k + 1) * steps), postmaster, pool, at_once
            )
            for k, (pool, at_once) in enumerate(
                [(WORKER_POOL, LOCAL_STEPS_AT_ONCE), (10, BURST)], start=1
            )
        }
        if profile:
            engine = create_engine(url)
            activities = FlowActivities(
                create_sessionmaker(engine), LogProvider(), "https://shop.example"
            )
            await profiled(range(3 * steps, 4 * steps), one, profile)
            await engine.dispose()
    report.add("CPU per step (gate + send)", f"{cpu:.2f} ms", f"baseline {base_cpu:.2f} ms")
    report.add("wall per step, one at a time", f"{wall:.2f} ms", f"baseline {base_wall:.2f} ms")
    report.add("SQL statements per step", f"{counted['sql'] / steps:.1f}", "baseline 1")
    report.add("commits per step", f"{counted['commits'] / steps:.1f}", "baseline 1")
    report.add("new database connections", f"{counted['connects']:,}", "the pool's, reused")
    for name, (pg_ms, connects) in bursts.items():
        report.add(f"bursts of {BURST}, {name}: PostgreSQL CPU per step", f"{pg_ms:.2f} ms")
        report.add(f"bursts of {BURST}, {name}: connections opened", f"{connects:,}")
    report.notes.append(
        "baseline: `select 1` in its own transaction on the same engine; provider: log"
    )
    report.data.update(steps=steps, cpu_ms=cpu, wall_ms=wall, statements=counted, bursts=bursts)
    return report


async def timed(steps: int, call: Any) -> tuple[float, float]:
    """Median-free totals: CPU and wall milliseconds per call, one call at a time."""
    await call(0)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(1, steps):
        await call(i)
    n = steps - 1
    return (time.process_time() - cpu0) * 1000 / n, (time.perf_counter() - wall0) * 1000 / n


async def in_bursts(
    url: str, store_id: str, carts: range, postmaster: int, pool: int, at_once: int
) -> tuple[float, int]:
    """The carts' first steps in bursts of BURST, at most `at_once` running, on an engine with
    `pool` connections: PostgreSQL's CPU milliseconds per step and the connections opened."""
    engine = create_engine(url, pool_size=pool)
    opened = 0

    def connect(*_: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(engine.sync_engine, "connect", connect)
    activities = FlowActivities(create_sessionmaker(engine), LogProvider(), "https://shop.example")
    env = ActivityEnvironment()
    limit = asyncio.Semaphore(at_once)

    async def one(i: int) -> None:
        async with limit:
            outcome = await env.run(activities.run_flow_step, first_step(store_id, i))
            assert outcome.status == "sent", outcome

    meter = CpuMeter({"postgres": postmaster})
    meter.start()
    began = time.monotonic()
    for start in range(carts.start, carts.stop, BURST):
        await asyncio.gather(*(one(i) for i in range(start, min(carts.stop, start + BURST))))
        await asyncio.sleep(0.3)  # the next wave of due steps
    used = meter.percent()["postgres"] / 100 * (time.monotonic() - began)
    await engine.dispose()
    return used * 1000 / len(carts), opened


def first_step(store_id: str, i: int) -> RunStep:
    return RunStep(
        store_id=store_id,
        workflow_id=f"cart:{store_id}:k{i}",
        run_key="r1",
        flow=FlowKind.ABANDONED_CART,
        flow_version=1,
        step=0,
        customer_id=f"c{i}",
        cart_id=f"k{i}",
    )


async def profiled(carts: range, call: Any, top: int) -> None:
    """More steps (new carts), under cProfile: the top entries by own and cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for i in carts:
        await call(i)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.step_cost", description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    publish(asyncio.run(run(args.steps, args.profile)), console)


if __name__ == "__main__":
    cli()
