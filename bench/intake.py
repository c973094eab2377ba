"""Intake and relay throughput.

a. Intake: events/s accepted by `POST /v1/events` from a real uvicorn process, batches of 100 in
   a realistic mix, several concurrent clients, for 1 and 2 uvicorn worker processes.
b. Relay: events/s the relay delivers to Temporal (the worker running in the same process, as in
   production), beside plain SDK signal-with-start calls at concurrency 64 for as many distinct
   workflow ids on the same dev server, measured before and after the relay (A-relay-B).

`python -m bench.intake [--quick] [--only intake|relay] [--temporal file,file-sync,memory]`"""

import argparse
import asyncio
import contextlib
import importlib.util
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError

from bench.report import Report, percentile, publish, verdict
from bench.stack import (
    TEMPORAL_MODES,
    BenchStack,
    BenchStore,
    BenchTemporal,
    CpuMeter,
    api_process,
    bench_stack,
    cart_updated,
    create_store,
    customer_upserted,
    enable_flow,
    line,
    order_placed,
    post_events,
    product_upserted,
    running_temporal,
    stack_processes,
    stop_on_sigterm,
    wait_until,
    waiting_flow,
)
from flow_contract import FlowConfig
from models.database import create_engine, create_sessionmaker
from relay import start_run
from services.events.routing import (
    CART,
    EventRow,
    Operation,
    RoutingContext,
    cart_workflow_id,
    plan_operations,
)
from services.messaging.flows import current_flow
from worker import build_relay, build_worker, connect_temporal

INTAKE_TARGET = 2000.0  # events/s
PER_CPU_TARGET = 5000.0  # events per api CPU-second
HEALTH_REQUESTS = 400
RATIO_TARGET = 0.9  # relay rate / raw signal-with-start rate
BATCH = 100
RAW_CONCURRENCY = 64
console = Console()


# --- a. intake ------------------------------------------------------------------------------


@dataclass
class IntakeResult:
    workers: int
    clients: int
    events: int = 0
    batches: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    # The baseline on the same api process: CPU ms of the api per GET /healthz, and its p95.
    health_cpu_ms: float = 0.0
    health_p95: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def mixed_batch(rng: random.Random, prefix: str) -> list[dict[str, Any]]:
    """100 events as a platform sends them: mostly cart updates (a fifth anonymous), some
    customers, products and orders; ids drawn from the client's own pools, so carts and
    customers recur across batches as they do in a shop."""
    events: list[dict[str, Any]] = []
    for _ in range(BATCH):
        roll = rng.random()
        customer = f"{prefix}c{rng.randrange(2000)}"
        if roll < 0.80:
            items = [
                line(f"{prefix}p{rng.randrange(300)}", rng.randint(1, 3))
                for _ in range(rng.randint(1, 3))
            ]
            owner = customer if rng.random() < 0.8 else None
            events.append(cart_updated(f"{prefix}k{rng.randrange(5000)}", owner, items))
        elif roll < 0.88:
            events.append(customer_upserted(customer))
        elif roll < 0.93:
            events.append(product_upserted(f"{prefix}p{rng.randrange(300)}"))
        else:
            cart = f"{prefix}k{rng.randrange(5000)}"
            events.append(order_placed(f"{prefix}o{uuid.uuid4().hex[:12]}", customer, cart))
    return events


def encoded_batches(count: int, prefix: str, seed: int) -> list[bytes]:
    """Bodies built and serialised before the clock starts: the client should cost little."""
    rng = random.Random(seed)
    return [json.dumps({"events": mixed_batch(rng, prefix)}).encode() for _ in range(count)]


async def run_intake(
    stack: BenchStack, store: BenchStore, *, workers: int, clients: int, batches: int
) -> IntakeResult:
    per_client = max(1, batches // clients)
    warmup = 2
    result = IntakeResult(workers=workers, clients=clients)
    async with api_process(stack, workers=workers) as api:
        bodies = [
            encoded_batches(per_client + warmup, f"w{workers}n{clients}x{i}-", seed=i)
            for i in range(clients)
        ]
        headers = {**store.headers, "content-type": "application/json"}
        meter = CpuMeter(stack_processes(stack, api=api))
        warmed = asyncio.Barrier(clients + 1)

        async def send(http: httpx.AsyncClient, body: bytes) -> int:
            """Events accepted; a failed request is counted, not retried."""
            try:
                response = await http.post("/v1/events", content=body, headers=headers)
            except httpx.HTTPError as exc:
                result.failures.append(repr(exc))
                return 0
            if response.status_code != 202:
                result.failures.append(f"{response.status_code} {response.text[:200]}")
                return 0
            return int(response.json()["accepted"])

        async def client(mine: list[bytes]) -> None:
            async with httpx.AsyncClient(base_url=api.base_url, timeout=60) as http:
                for body in mine[:warmup]:  # connections and caches warm
                    await send(http, body)
                await warmed.wait()  # the clock starts when every client is warm
                for body in mine[warmup:]:
                    began = time.perf_counter()
                    accepted = await send(http, body)
                    result.latencies.append(time.perf_counter() - began)
                    result.events += accepted
                    result.batches += accepted > 0

        tasks = [asyncio.create_task(client(b)) for b in bodies]
        await warmed.wait()
        meter.start()
        began = time.perf_counter()
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - began
        result.cpu = meter.percent()
        await _health_baseline(api.base_url, clients, meter, result)
    return result


async def _health_baseline(
    base_url: str, clients: int, meter: CpuMeter, result: IntakeResult
) -> None:
    """What any request costs this api process: GET /healthz by the same number of clients."""
    latencies: list[float] = []

    async def client(count: int) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            for _ in range(count):
                began = time.perf_counter()
                (await http.get("/healthz")).raise_for_status()
                latencies.append(time.perf_counter() - began)

    await client(10)  # warm
    meter.start()
    began = time.perf_counter()
    await asyncio.gather(*(client(HEALTH_REQUESTS // clients) for _ in range(clients)))
    wall = time.perf_counter() - began
    api_percent = meter.percent().get("api", 0)
    result.health_cpu_ms = api_percent / 100 * wall / len(latencies) * 1000
    result.health_p95 = percentile(latencies, 95)


# --- b. relay against plain signal-with-start ------------------------------------------------


@dataclass
class RelayResult:
    """Relay and raw calls measured in alternating rounds (raw, relay, relay, raw, ...), so a
    machine whose other load comes and goes, or a server that slows as runs pile up, favours
    neither side."""

    server: str
    events: int = 0  # per side
    raw: list[float] = field(default_factory=list)  # seconds per round
    relay: list[float] = field(default_factory=list)
    raw_errors: int = 0
    cpu_raw: dict[str, float] = field(default_factory=dict)  # CPU seconds per process tree
    cpu_relay: dict[str, float] = field(default_factory=dict)

    @property
    def relay_rate(self) -> float:
        return self.events / sum(self.relay)

    @property
    def raw_rate(self) -> float:
        return self.events / sum(self.raw)

    @property
    def ratio(self) -> float:
        return self.relay_rate / self.raw_rate

    @property
    def round_ratios(self) -> list[float]:
        """Relay rate over raw rate within each round (the two phases ran back to back)."""
        return [raw / relay for raw, relay in zip(self.raw, self.relay, strict=True)]

    @property
    def median_ratio(self) -> float:
        """The verdict's figure: a burst of other load on this shared machine lands in one
        phase of one round and moves the totals, not the median."""
        return statistics.median(self.round_ratios)

    @staticmethod
    def cpu_percent(used: dict[str, float], seconds: list[float]) -> dict[str, float]:
        return {k: round(100 * v / sum(seconds)) for k, v in used.items()}


def add_cpu(total: dict[str, float], percent: dict[str, float], seconds: float) -> None:
    for name, pct in percent.items():
        total[name] = total.get(name, 0.0) + pct * seconds / 100


def new_cart_operations(
    store: BenchStore, version: int, flow: FlowConfig, label: str, count: int
) -> list[Operation]:
    """What the relay's planner makes of `count` first updates of distinct carts."""
    events = [
        EventRow(
            seq=i + 1,
            store_id=store.id,
            event_id=f"evt_{uuid.uuid4().hex}",
            type="cart.updated",
            data=cart_updated(f"{label}-k{i}", f"{label}-c{i}", [line("p_1")])["data"],
        )
        for i in range(count)
    ]
    plan = plan_operations(events, RoutingContext(flows={(store.id, CART): (version, flow)}))
    return [op for ops in plan.values() for op in ops]


async def raw_signal_with_start(
    client: Client, stack: BenchStack, store: BenchStore, label: str, count: int
) -> tuple[float, int]:
    """`count` plain `start_workflow(..., start_signal=...)` calls, 64 at a time, carrying
    exactly the input, signal and search attributes the relay sends for a new cart (planned
    before the clock starts)."""
    async with stack.sessionmaker() as session:
        version, flow = await current_flow(session, store.id, CART)
    operations = new_cart_operations(store, version, flow, label, count)
    limit = asyncio.Semaphore(RAW_CONCURRENCY)
    errors = 0

    async def one(op: Operation) -> None:
        nonlocal errors
        assert op.start is not None and op.signal is not None
        async with limit:
            try:
                await start_run(client, op, op.start, stack.task_queue)
            except RPCError:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(one(op) for op in operations))
    return time.perf_counter() - began, errors


async def settle(client: Client, store: BenchStore, label: str, count: int) -> None:
    """Wait until the worker has run the first task of the newest runs, so one phase's backlog
    does not slow the next."""
    sample = [cart_workflow_id(store.id, f"{label}-k{i}") for i in range(max(0, count - 32), count)]

    async def idle() -> bool:
        for workflow_id in sample:
            desc = await client.get_workflow_handle(workflow_id).describe()
            if desc.raw_description.HasField("pending_workflow_task"):
                return False
        return True

    await wait_until(idle, 120, "the worker to catch up", interval=0.25)


async def preload(api: httpx.AsyncClient, store: BenchStore, label: str, count: int) -> None:
    """`count` first cart updates of distinct carts with a known customer: each one starts a run."""
    for first in range(0, count, BATCH):
        events = [
            cart_updated(f"{label}-k{i}", f"{label}-c{i}", [line("p_1")])
            for i in range(first, min(first + BATCH, count))
        ]
        await post_events(api, store, events)


async def run_relay(
    stack: BenchStack, api: httpx.AsyncClient, temporal: BenchTemporal, count: int, rounds: int
) -> RelayResult:
    # Only this phase's events are left to deliver (intake's were never meant for the relay).
    await stack.execute("UPDATE events SET delivered_at = now() WHERE delivered_at IS NULL")
    store = await create_store(api, f"relay bench {temporal.mode}")
    await enable_flow(api, store, waiting_flow())
    settings = stack.settings(temporal_address=temporal.address)
    client = await connect_temporal(settings)
    # The worker process's own engine, as `shopstar-marketing worker` builds it.
    engine: AsyncEngine = create_engine(settings.require_database_url())
    sessionmaker = create_sessionmaker(engine)
    chunk = count // rounds
    result = RelayResult(server=temporal.mode, events=chunk * rounds)
    roots = stack_processes(stack)
    if temporal.process:
        roots["temporal"] = temporal.process.pid
    meter = CpuMeter(roots)

    async def raw_round(label: str) -> None:
        meter.start()
        seconds, errors = await raw_signal_with_start(client, stack, store, label, chunk)
        add_cpu(result.cpu_raw, meter.percent(), seconds)
        result.raw.append(seconds)
        result.raw_errors += errors
        await settle(client, store, label, chunk)

    async def relay_round(label: str) -> None:
        await preload(api, store, label, chunk)  # while no relay runs
        relay = build_relay(client, sessionmaker, settings)
        meter.start()
        began = time.monotonic()
        task = asyncio.create_task(relay.run())

        async def all_delivered() -> bool:
            if task.done():
                task.result()  # raises what stopped the relay
            return await stack.undelivered() == 0

        try:
            seconds = await wait_until(all_delivered, 600, "the relay", interval=0.05) - began
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        add_cpu(result.cpu_relay, meter.percent(), seconds)
        result.relay.append(seconds)
        await settle(client, store, label, chunk)

    try:
        async with build_worker(client, sessionmaker, settings):
            for n in range(rounds):
                first, second = (raw_round, relay_round) if n % 2 == 0 else (relay_round, raw_round)
                await first(f"r{n}{'raw' if first is raw_round else 'relay'}")
                await second(f"r{n}{'raw' if second is raw_round else 'relay'}")
    finally:
        await engine.dispose()
    return result


# --- the whole benchmark ----------------------------------------------------------------------


def uvicorn_stack() -> str:
    """What uvicorn picks on its own ("auto"): httptools and uvloop when installed."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio loop"
    return f"{http}, {loop}"


def describe_cpu(cpu: dict[str, float]) -> str:
    return ", ".join(f"{name} {pct:.0f}%" for name, pct in cpu.items())


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def add_intake(report: Report, r: IntakeResult) -> None:
    plural = "s" if r.workers > 1 else ""
    report.add(
        f"intake, {r.workers} uvicorn worker{plural}, {r.clients} clients, batches of {BATCH}",
        f"{r.rate:,.0f} events/s",
        f">= {INTAKE_TARGET:,.0f}",
        verdict(r.rate >= INTAKE_TARGET and not r.failures),
    )
    p50, p99 = percentile(r.latencies, 50), percentile(r.latencies, 99)
    report.add("  batch latency p50 / p99", f"{p50 * 1000:.0f} / {p99 * 1000:.0f} ms")
    # What a worker does with a whole core, whatever else ran on the machine meanwhile.
    per_core = r.rate / max(r.cpu.get("api", 0), 1) * 100
    report.add(
        "  events per api CPU-second",
        f"{per_core:,.0f}",
        f">= {PER_CPU_TARGET:,.0f}; api {r.cpu.get('api', 0):.0f}% CPU, "
        f"others {r.cpu.get('others', 0):.0f}%",
        verdict(per_core >= PER_CPU_TARGET and not r.failures),
    )
    batch_ms = BATCH / per_core * 1000 if per_core else 0.0
    report.add(
        "  api CPU per batch of 100 (baseline: per GET /healthz, same process)",
        f"{batch_ms:.1f} ms",
        f"healthz {r.health_cpu_ms:.2f} ms, p95 {r.health_p95 * 1000:.1f} ms",
    )
    if r.failures:
        report.add("  failed requests", str(len(r.failures)), r.failures[0][:60], verdict(False))
    report.data.setdefault("intake", []).append(
        {
            "uvicorn_workers": r.workers,
            "clients": r.clients,
            "events": r.events,
            "batches": r.batches,
            "failed_requests": len(r.failures),
            "failures": r.failures[:10],
            "seconds": round(r.seconds, 3),
            "events_per_second": round(r.rate, 1),
            "latency_p50_ms": ms(p50),
            "latency_p99_ms": ms(p99),
            "cpu_percent": r.cpu,
            "events_per_api_cpu_second": round(per_core, 1),
            "healthz_api_cpu_ms": round(r.health_cpu_ms, 3),
            "healthz_p95_ms": ms(r.health_p95),
        }
    )


def add_relay(report: Report, r: RelayResult) -> None:
    kind = TEMPORAL_MODES[r.server]
    rounds = len(r.relay)
    report.add(
        f"relay delivery, dev server {kind} ({r.events} new carts, {rounds} rounds)",
        f"{r.relay_rate:,.0f} events/s",
    )
    report.add(
        f"  raw signal-with-start, concurrency {RAW_CONCURRENCY}, same server and worker",
        f"{r.raw_rate:,.0f} calls/s",
        f"{r.raw_errors} errors",
    )
    report.add(f"  relay / raw, {kind}, from the totals", f"{r.ratio:.2f}")
    report.add(
        f"  relay / raw, {kind}, median of the {len(r.relay)} rounds",
        f"{r.median_ratio:.2f}",
        f">= {RATIO_TARGET}",
        verdict(r.median_ratio >= RATIO_TARGET),
    )
    report.data.setdefault("relay", []).append(
        {
            "temporal": r.server,
            "events_per_side": r.events,
            "relay_seconds_per_round": [round(x, 3) for x in r.relay],
            "raw_seconds_per_round": [round(x, 3) for x in r.raw],
            "relay_events_per_second": round(r.relay_rate, 1),
            "raw_calls_per_second": round(r.raw_rate, 1),
            "raw_errors": r.raw_errors,
            "ratio_of_totals": round(r.ratio, 3),
            "ratio_per_round": [round(x, 3) for x in r.round_ratios],
            "ratio_median": round(r.median_ratio, 3),
            "cpu_percent_raw": RelayResult.cpu_percent(r.cpu_raw, r.raw),
            "cpu_percent_relay": RelayResult.cpu_percent(r.cpu_relay, r.relay),
        }
    )


async def main(quick: bool, modes: list[str], parts: set[str]) -> Report:
    report = Report(name="intake", title="Intake and relay throughput")
    report.notes += [
        f"intake: real uvicorn process(es), {uvicorn_stack()}; client, api, PostgreSQL and an "
        "idle Temporal share the machine",
        "relay: worker + relay (relay_batch_size 500, relay_concurrency 64) in the bench process; "
        "raw = the same start_workflow(start_signal=...) calls straight from the SDK, same worker",
        "CPU figures in JSON: percent of one core per process tree (200% = both cores)",
    ]
    batches = 60 if quick else 200
    relay_events = 1000 if quick else 4000
    async with bench_stack("intake") as stack:
        report.data["postgres"] = await stack.scalar("SELECT version()")
        async with (
            api_process(stack) as setup_api,
            httpx.AsyncClient(base_url=setup_api.base_url, timeout=60) as api,
        ):
            store = await create_store(api, "intake bench")
        for workers, clients in ((1, 4), (1, 8), (2, 4), (2, 8)) if "intake" in parts else ():
            console.print(f"intake: {workers} uvicorn worker(s), {clients} clients ...")
            run = await run_intake(stack, store, workers=workers, clients=clients, batches=batches)
            console.print(f"  {run.rate:,.0f} events/s  (CPU {describe_cpu(run.cpu)})")
            add_intake(report, run)

        if "relay" not in parts:
            return report
        async with (
            api_process(stack) as relay_api,
            httpx.AsyncClient(base_url=relay_api.base_url, timeout=60) as api,
        ):
            for mode in modes:
                async with contextlib.AsyncExitStack() as extra:
                    server = stack.temporal
                    if mode != server.mode:
                        server = await extra.enter_async_context(
                            running_temporal(stack.workdir, mode)
                        )
                    console.print(f"relay vs raw ({TEMPORAL_MODES[mode]}), {relay_events} ...")
                    relay = await run_relay(stack, api, server, relay_events, rounds=4)
                    cpu_raw = RelayResult.cpu_percent(relay.cpu_raw, relay.raw)
                    cpu_relay = RelayResult.cpu_percent(relay.cpu_relay, relay.relay)
                    console.print(
                        f"  relay {relay.relay_rate:.0f}/s, raw {relay.raw_rate:.0f}/s "
                        f"(CPU raw: {describe_cpu(cpu_raw)}; relay: {describe_cpu(cpu_relay)})"
                    )
                    add_relay(report, relay)
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer batches and events")
    parser.add_argument(
        "--temporal",
        default="file,file-sync,memory",
        help=f"dev server modes for the relay part, comma-separated ({', '.join(TEMPORAL_MODES)})",
    )
    parser.add_argument("--only", choices=["intake", "relay"], help="run one part")
    args = parser.parse_args()
    stop_on_sigterm()
    parts = {args.only} if args.only else {"intake", "relay"}
    modes = [m.strip() for m in args.temporal.split(",") if m.strip()]
    if unknown := set(modes) - set(TEMPORAL_MODES):
        parser.error(f"unknown --temporal mode(s): {', '.join(sorted(unknown))}")
    publish(asyncio.run(main(args.quick, modes, parts)), console)


if __name__ == "__main__":
    cli()
