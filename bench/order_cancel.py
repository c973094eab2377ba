"""Order to cancel: with 1,000 recovery runs waiting, `order.placed` events arrive through the api
at 20 per second (one order per cart, open loop: each on its schedule whatever the others do),
while the worker process runs the worker and the relay (woken by NOTIFY), as in production. Per
order: the time from the POST to the run closing (its close time in Temporal), and on the way the
POST's 202 and the relay's delivery. Then, for comparison with REFERENCE.md, a burst of orders
sent at once.

`python -m bench.order_cancel [--quick] [--runs N] [--rate R] [--burst N] [--temporal MODES]`"""

import argparse
import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx
from rich.console import Console
from temporalio.client import Client

from bench.report import Report, percentile, publish, verdict
from bench.stack import (
    TEMPORAL_MODES,
    BenchStack,
    BenchStore,
    CpuMeter,
    api_process,
    bench_stack,
    cart_updated,
    cart_workflow_id,
    create_store,
    customer_upserted,
    enable_flow,
    line,
    order_placed,
    post_events,
    stack_processes,
    stop_on_sigterm,
    wait_until,
    waiting_flow,
    worker_process,
)
from worker import connect_temporal

P99_TARGET = 1.0  # seconds from the POST to the run closing
RESULT_TIMEOUT = 120.0
console = Console()


@dataclass(frozen=True)
class OrderTiming:
    event_id: str
    posted_at: float  # wall clock (time.time()) right before the POST
    accepted: float  # seconds until the 202
    closed: float  # seconds until the run's close time in Temporal
    observed: float  # seconds until handle.result() returned here
    outcome: str
    delivered: float = float("nan")  # seconds until the relay marked the event delivered


async def start_runs(
    stack: BenchStack, api: httpx.AsyncClient, store: BenchStore, first: int, count: int
) -> float:
    """`count` shoppers with a cart each; returns how long until all their runs were open."""
    began = time.monotonic()
    for start in range(first, first + count, 100):
        ids = range(start, min(start + 100, first + count))
        events: list[dict[str, Any]] = [customer_upserted(f"c{i}") for i in ids]
        events += [cart_updated(f"k{i}", f"c{i}", [line("p_1")]) for i in ids]
        await post_events(api, store, events)
    expected = first + count

    async def all_open() -> bool:
        open_runs = await stack.scalar(
            "SELECT count(*) FROM recovery_runs WHERE store_id = :s AND closed_at IS NULL",
            s=store.id,
        )
        return int(open_runs) >= expected and await stack.undelivered() == 0

    return await wait_until(all_open, 300, "the runs to start", interval=0.2) - began


async def settle(client: Client, store: BenchStore, last: int) -> None:
    """Wait until the worker has run the first task of the newest runs."""
    sample = [cart_workflow_id(store.id, f"k{i}") for i in range(max(0, last - 32), last)]

    async def idle() -> bool:
        for workflow_id in sample:
            desc = await client.get_workflow_handle(workflow_id).describe()
            if desc.raw_description.HasField("pending_workflow_task"):
                return False
        return True

    await wait_until(idle, 120, "the worker to catch up", interval=0.25)


async def place_order(
    api: httpx.AsyncClient, client: Client, store: BenchStore, i: int
) -> OrderTiming:
    event = order_placed(f"o{i}", f"c{i}", f"k{i}")
    handle = client.get_workflow_handle(cart_workflow_id(store.id, f"k{i}"))
    posted_at, began = time.time(), time.perf_counter()
    await post_events(api, store, [event])
    accepted = time.perf_counter() - began
    outcome = str(await asyncio.wait_for(handle.result(), RESULT_TIMEOUT))
    observed = time.perf_counter() - began
    close_time: datetime | None = (await handle.describe()).close_time
    closed = close_time.timestamp() - posted_at if close_time else observed
    return OrderTiming(event["id"], posted_at, accepted, closed, observed, outcome)


async def send_orders(
    api: httpx.AsyncClient, client: Client, store: BenchStore, ids: range, rate: float | None
) -> list[OrderTiming]:
    """One order per cart: at `rate` per second on a fixed schedule, or all at once."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = []
    for n, i in enumerate(ids):
        if rate:
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
        tasks.append(asyncio.create_task(place_order(api, client, store, i)))
    return list(await asyncio.gather(*tasks))


async def with_delivery(stack: BenchStack, timings: list[OrderTiming]) -> list[OrderTiming]:
    """Add when the relay marked each order delivered (its `delivered_at`)."""
    rows = await stack.rows(
        "SELECT event_id, delivered_at FROM events WHERE event_id = ANY(:ids)",
        ids=[t.event_id for t in timings],
    )
    delivered = {r[0]: r[1].timestamp() for r in rows if r[1] is not None}
    return [
        replace(t, delivered=delivered[t.event_id] - t.posted_at) if t.event_id in delivered else t
        for t in timings
    ]


def seconds(values: list[float], p: float) -> str:
    return f"{percentile(values, p):.3f} s"


def summary(timings: list[OrderTiming]) -> dict[str, Any]:
    out: dict[str, Any] = {"orders": len(timings)}
    for name in ("accepted", "delivered", "closed", "observed"):
        values = [getattr(t, name) for t in timings if getattr(t, name) == getattr(t, name)]
        out[name] = {f"p{p}": round(percentile(values, p), 4) for p in (50, 95, 99, 100)}
    out["outcomes"] = {
        o: sum(t.outcome == o for t in timings) for o in {t.outcome for t in timings}
    }
    first = min(t.posted_at for t in timings)
    # Per order, in the order sent: seconds after the first order, then to 202, to delivered,
    # to closed; shows whether the latency is a backlog that grows or a burst that passes.
    out["timeline"] = [
        [round(x, 3) for x in (t.posted_at - first, t.accepted, t.delivered, t.closed)]
        for t in sorted(timings, key=lambda t: t.posted_at)
    ]
    return out


def p50_p99(values: list[float]) -> str:
    return f"{seconds(values, 50)} / {seconds(values, 99)}"


def add_paced(
    report: Report, mode: str, timings: list[OrderTiming], rate: float, runs: int
) -> dict[str, Any]:
    closed = [t.closed for t in timings]
    converted = sum(t.outcome == "converted" for t in timings)
    span = max(t.posted_at + t.closed for t in timings) - min(t.posted_at for t in timings)
    report.add(
        f"[{TEMPORAL_MODES[mode]}] {len(timings)} orders at {rate:g}/s, {runs} runs waiting",
        f"{len(timings) / span:.1f} closed/s",
    )
    report.add("  POST -> 202, p50 / p99", p50_p99([t.accepted for t in timings]))
    report.add("  POST -> relay delivered, p50 / p99", p50_p99([t.delivered for t in timings]))
    report.add("  POST -> run closed, p50", seconds(closed, 50))
    report.add("  POST -> run closed, p95", seconds(closed, 95))
    p99 = percentile(closed, 99)
    report.add(
        "  POST -> run closed, p99",
        f"{p99:.3f} s",
        f"< {P99_TARGET:g} s",
        verdict(p99 < P99_TARGET),
    )
    report.add("  POST -> run closed, max", seconds(closed, 100))
    report.add(
        "  runs closed as converted",
        f"{converted} / {len(timings)}",
        "all",
        verdict(converted == len(timings)),
    )
    return summary(timings) | {"rate_per_second": rate, "closed_per_second": len(timings) / span}


def add_burst(report: Report, timings: list[OrderTiming]) -> dict[str, Any]:
    report.add(
        f"  burst: {len(timings)} orders at once, closed p50 / p99",
        p50_p99([t.closed for t in timings]),
        "REFERENCE.md: 4.3 / 7.3 s",
    )
    return summary(timings)


async def measure(report: Report, mode: str, runs: int, rate: float, burst: int) -> None:
    """One stack with the dev server in `mode`: start the runs, then the orders."""
    data: dict[str, Any] = report.data.setdefault(mode, {})
    async with bench_stack("order-cancel", temporal_mode=mode) as stack:
        report.data.setdefault("postgres", await stack.scalar("SELECT version()"))
        async with (
            api_process(stack) as api_child,
            httpx.AsyncClient(base_url=api_child.base_url, timeout=60) as api,
            worker_process(stack) as worker_child,
        ):
            store = await create_store(api, "order cancel bench")
            await enable_flow(api, store, waiting_flow())
            client = await connect_temporal(stack.settings())
            console.print(f"\\[{mode}] starting {runs + burst} waiting runs ...")
            data["runs_started_seconds"] = await start_runs(stack, api, store, 0, runs + burst)
            await settle(client, store, runs + burst)

            console.print(f"\\[{mode}] {runs} orders at {rate:g}/s ...")
            meter = CpuMeter(stack_processes(stack, api=api_child, worker=worker_child))
            meter.start()
            paced = await send_orders(api, client, store, range(runs), rate)
            cpu = meter.percent()
            paced = await with_delivery(stack, paced)
            data["paced"] = add_paced(report, mode, paced, rate, runs) | {"cpu_percent": cpu}
            console.print(f"  CPU: {', '.join(f'{k} {v:.0f}%' for k, v in cpu.items())}")
            if burst:
                console.print(f"\\[{mode}] burst of {burst} orders at once ...")
                bursted = await send_orders(api, client, store, range(runs, runs + burst), None)
                data["burst"] = add_burst(report, await with_delivery(stack, bursted))


async def main(modes: list[str], runs: int, rate: float, burst: int) -> Report:
    report = Report(name="order_cancel", title="Order to cancel: POST order.placed -> run closed")
    report.notes += [
        "api: uvicorn, 1 worker process; worker process: `shopstar-marketing worker` (Temporal "
        "worker + relay woken by NOTIFY, production settings); a fresh stack per dev server mode",
        "closed = the run's close time in Temporal minus the moment before the POST (same clock)",
    ]
    for mode in modes:
        await measure(report, mode, runs, rate, burst)
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.order_cancel", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 runs, burst of 50")
    parser.add_argument("--runs", type=int, default=1000, help="runs waiting (one order each)")
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second")
    parser.add_argument("--burst", type=int, default=200, help="orders at once afterwards; 0: none")
    parser.add_argument(
        "--temporal",
        default="file,file-sync",
        help=f"dev server modes, comma-separated ({', '.join(TEMPORAL_MODES)})",
    )
    args = parser.parse_args()
    modes = [m.strip() for m in args.temporal.split(",") if m.strip()]
    if unknown := set(modes) - set(TEMPORAL_MODES):
        parser.error(f"unknown --temporal mode(s): {', '.join(sorted(unknown))}")
    runs, burst = (200, 50) if args.quick else (args.runs, args.burst)
    stop_on_sigterm()
    publish(asyncio.run(main(modes, runs, args.rate, burst)), console)


if __name__ == "__main__":
    cli()
