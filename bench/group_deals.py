"""A hot group deal over HTTP: `joins` joins from `clients` concurrent clients on a deal with
min `min` and max `max` (5,000 / 50 / 100 / 4,000 by default), through the api (uvicorn) and the
worker (`shopstar-marketing worker`: its deal outbox starts and wakes the run). Checks: exactly
`max` accepted, the rest `deal_closed`, exactly one `deal.activated`, no join accepted after the
deal was full, and the run's history length. Baseline: GET /healthz by as many clients, same run.
`python -m bench.group_deals [--quick]`"""

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console

from bench.report import Report, percentile, publish, verdict
from bench.stack import (
    BenchStore,
    api_process,
    bench_stack,
    create_store,
    post_events,
    stop_on_sigterm,
    wait_until,
    worker_process,
)
from deal_outbox import workflow_id
from worker import connect_temporal

console = Console()


async def hammer(
    clients: int, requests: int, call: Any
) -> tuple[float, list[tuple[int, str, float, float]]]:
    """`requests` calls of `call(i)` shared by `clients` workers; (wall seconds, answers)."""
    answers: list[tuple[int, str, float, float]] = []
    queue = iter(range(requests))

    async def client() -> None:
        for i in queue:
            began = time.perf_counter()
            response = await call(i)
            ended = time.perf_counter()
            code = "" if response.status_code < 300 else response.json()["error"]["code"]
            answers.append((response.status_code, code, ended - began, ended))

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - began, answers


async def seed(api: httpx.AsyncClient, store: BenchStore) -> None:
    product = {
        "product_id": "tent",
        "title": "Tent",
        "price": 20000,
        "currency": "USD",
        "category_ids": ["outdoor"],
        "available": True,
    }
    now = datetime.now(UTC).isoformat()
    await post_events(
        api,
        store,
        [{"id": "evt_p", "type": "product.upserted", "occurred_at": now, "data": product}],
    )
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["deal.activated", "deal.failed"]}
    (await api.post("/v1/webhook-endpoints", json=hook, headers=store.headers)).raise_for_status()


async def main(joins: int, clients: int, minimum: int, maximum: int) -> Report:
    report = Report(name="group_deals", title=f"Group deal: {joins} joins, {clients} clients")
    report.notes += [
        "api: uvicorn, 1 worker process; worker process: `shopstar-marketing worker` (its deal "
        "outbox wakes the run once per round of joins)",
        f"deal: min {minimum}, max {maximum}; every join a new customer",
    ]
    async with (
        bench_stack("group-deals") as stack,
        api_process(stack) as api_child,
        httpx.AsyncClient(
            base_url=api_child.base_url,
            timeout=60,
            limits=httpx.Limits(max_connections=clients),
        ) as api,
        worker_process(stack),
    ):
        store = await create_store(api, "group deal bench")
        await seed(api, store)
        base_seconds, base = await hammer(clients, joins, lambda i: api.get("/healthz"))
        body = {
            "product_id": "tent",
            "deal_price": 14900,
            "currency": "USD",
            "min_participants": minimum,
            "max_participants": maximum,
            "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        }
        created = await api.post("/v1/group-deals", json=body, headers=store.headers)
        created.raise_for_status()
        deal_id = created.json()["id"]
        path = f"/v1/group-deals/{deal_id}/participants"

        async def join(i: int) -> httpx.Response:
            body = {"customer_id": f"c{i}"}
            return await api.post(path, json=body, headers=store.headers)

        console.print(f"{joins} joins from {clients} clients ...")
        seconds, answers = await hammer(clients, joins, join)

        async def activated() -> bool:
            got = await api.get(f"/v1/group-deals/{deal_id}", headers=store.headers)
            return bool(got.json()["status"] == "activated")

        await wait_until(activated, 60, "the deal activated")
        await asyncio.sleep(2)  # any second activation would have had its chance
        late = await join(joins + 1)
        rows = await stack.rows("SELECT participants FROM group_deals WHERE id = :id", id=deal_id)
        stored = await stack.scalar(
            "SELECT count(*) FROM group_deal_participants WHERE deal_id = :id", id=deal_id
        )
        activations = await stack.scalar(
            "SELECT count(*) FROM webhook_deliveries WHERE event_type = 'deal.activated'"
        )
        client = await connect_temporal(stack.settings())
        handle = client.get_workflow_handle(workflow_id(store.id, deal_id))
        history = (await handle.fetch_history()).events
    accepted = [a for a in answers if a[0] == 201]
    closed = [a for a in answers if a[1] == "deal_closed"]
    other = len(answers) - len(accepted) - len(closed)
    first_closed = min((a[3] for a in closed), default=float("inf"))
    # A join answered 201 after the first `deal_closed` was answered: accepted after close?
    # (Only if it also started after that answer: in-flight requests are not "after".)
    after_close = sum(1 for a in accepted if a[3] - a[2] > first_closed)
    signals = sum(1 for e in history if e.HasField("workflow_execution_signaled_event_attributes"))
    rate = len(answers) / seconds
    base_rate = len(base) / base_seconds
    report.add("GET /healthz (baseline), req/s", f"{base_rate:.0f}")
    report.add("joins, req/s", f"{rate:.0f}", f"{base_rate:.0f} (healthz)")
    lat = [a[2] * 1000 for a in answers]
    blat = [a[2] * 1000 for a in base]
    report.add(
        "join latency p50 / p99, ms",
        f"{percentile(lat, 50):.0f} / {percentile(lat, 99):.0f}",
        f"{percentile(blat, 50):.0f} / {percentile(blat, 99):.0f} (healthz)",
    )
    report.add(
        "joins accepted (201)", str(len(accepted)), str(maximum), verdict(len(accepted) == maximum)
    )
    report.add(
        "participants stored / counted",
        f"{stored} / {rows[0][0]}",
        str(maximum),
        verdict(stored == rows[0][0] == maximum),
    )
    report.add(
        "409 deal_closed",
        str(len(closed)),
        str(joins - maximum),
        verdict(len(closed) == joins - maximum),
    )
    report.add("other answers", str(other), "0", verdict(other == 0))
    report.add(
        "join after close (started after a deal_closed) accepted",
        str(after_close),
        "0",
        verdict(after_close == 0),
    )
    report.add("late join answer", str(late.status_code), "409", verdict(late.status_code == 409))
    report.add("deal.activated deliveries", str(activations), "1", verdict(activations == 1))
    report.add("run history events", str(len(history)), "bounded")
    report.add("signals received by the run", str(signals), f"< {joins} (batched)")
    report.data.update(
        joins=joins,
        clients=clients,
        seconds=seconds,
        join_rate=rate,
        healthz_rate=base_rate,
        accepted=len(accepted),
        closed=len(closed),
        other=other,
        activations=activations,
        history_events=len(history),
        signals=signals,
        after_close=after_close,
    )
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.group_deals", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 joins on min 20 / max 800")
    parser.add_argument("--joins", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--min", type=int, default=100)
    parser.add_argument("--max", type=int, default=4000)
    args = parser.parse_args()
    joins, minimum, maximum = (1000, 20, 800) if args.quick else (args.joins, args.min, args.max)
    stop_on_sigterm()
    publish(asyncio.run(main(joins, args.clients, minimum, maximum)), console)


if __name__ == "__main__":
    cli()
