"""On-site ads over HTTP (uvicorn, 1 process, the embedded PostgreSQL), 100 live campaigns:

a. Serving: `POST /v1/storefront/ads` sent open-loop at a steady `rate` (200 requests/s by
   default) for `seconds`, each for one of 2,000 visitors on a random placement and device;
   p50/p95/p99 latency beside `GET /healthz` sent the same way in the same run (the baseline).
b. Intake: `POST /v1/storefront/ad-events` (an impression, then a click, for every served ad,
   plus one duplicate impression each: the ads of a. and `--intake-ads` more, served for it
   unmeasured) from `clients` concurrent clients; events per second beside `GET /healthz`
   hammered the same way; then the other half of the ads in beacon batches.

`python -m bench.ads [--quick]`. Targets: serving p95 < 10 ms, intake >= 2,000 events/s."""

import argparse
import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from rich.console import Console

from bench.loadgen import Answer, LoadClient
from bench.report import Report, percentile, publish, verdict
from bench.stack import (
    BenchStore,
    CpuMeter,
    api_process,
    bench_stack,
    create_store,
    stack_processes,
    stop_on_sigterm,
)

console = Console()
PLACEMENTS = ["homepage_hero", "category_banner", "product_page", "checkout_upsell"]
DEVICES = ["mobile", "desktop", "tablet"]
CAMPAIGNS, VISITORS = 100, 2000
SERVE_P95_MS, EVENTS_PER_SECOND = 10.0, 2000.0
BATCH = 48  # a storefront beacon's events per request (16 ads, 3 events each)


def campaign_body(k: int, rng: random.Random) -> dict[str, Any]:
    """A mix: most target a device, a category or a group, some are capped, all live."""
    targeting: dict[str, Any] = {}
    roll = k % 5
    if roll == 1:
        targeting["device_types"] = [rng.choice(DEVICES)]
    elif roll == 2:
        targeting["category_ids"] = [f"cat{rng.randrange(20)}"]
    elif roll == 3:
        targeting["shopper_groups"] = ["vip"]
    body: dict[str, Any] = {
        "name": f"Campaign {k}",
        "placements": rng.sample(PLACEMENTS, rng.randint(1, 2)),
        "targeting": targeting,
        "priority": rng.randrange(100),
        "variants": [
            {
                "key": key,
                "weight": rng.randint(1, 5),
                "creative": {
                    "title": f"Offer {k}{key}",
                    "body": "Up to 30% off",
                    "image_url": f"https://cdn.example.com/{k}{key}.png",
                    "link_url": f"https://shop.example.com/c/{k}",
                    "cta": "Shop now",
                },
            }
            for key in ("A", "B", "C")[: rng.randint(2, 3)]
        ],
    }
    if k % 4 == 0:
        body["frequency_cap"] = {"max_impressions": 5, "window_seconds": 3600}
    return body


async def paced(
    rate: float, seconds: float, send: Callable[[int], Awaitable[Answer]]
) -> tuple[list[float], list[Answer]]:
    """Open-loop: request i is sent at i / rate whatever the previous ones are doing, so a slow
    answer cannot slow the offered load down (no coordinated omission)."""
    latencies: list[float] = []
    answers: list[Answer] = []

    start = time.perf_counter()

    async def one(i: int) -> None:
        response = await send(i)
        # From when it was due, so time spent queued behind a slow answer counts too.
        latencies.append(time.perf_counter() - (start + i / rate))
        answers.append(response)

    tasks = []
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return latencies, answers


async def hammer(
    clients: int, jobs: list[Any], call: Callable[[Any], Awaitable[Answer]]
) -> tuple[float, list[int]]:
    """Every job through `clients` concurrent clients, as fast as they answer."""
    queue = iter(jobs)
    statuses: list[int] = []

    async def client() -> None:
        for job in queue:
            statuses.append((await call(job)).status_code)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - began, statuses


async def collect(
    clients: int, jobs: list[Any], call: Callable[[Any], Awaitable[Answer]]
) -> list[Answer]:
    """Every job's answer, through `clients` concurrent clients."""
    answers: list[Answer] = []

    async def one(job: Any) -> Answer:
        answers.append(await call(job))
        return answers[-1]

    await hammer(clients, jobs, one)
    return answers


class Phases:
    """CPU of each process per phase, from /proc: what the api spends per request, whatever the
    rest of the machine does."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.cpu: dict[str, dict[str, float]] = {}
        self.count: dict[str, int] = {}

    async def run(self, name: str, count: int, phase: Awaitable[Any]) -> Any:
        meter = CpuMeter(self.roots)
        meter.start()
        began = time.monotonic()
        result = await phase
        wall = time.monotonic() - began
        self.cpu[name] = {k: v * wall / 100 for k, v in meter.percent().items()}
        self.cpu[name]["wall"] = wall
        self.count[name] = count
        return result

    def api_ms(self, name: str) -> float:
        """Milliseconds of api CPU per request (or per event) of the phase."""
        return 1000 * self.cpu[name]["api"] / max(self.count[name], 1)


def ms(values: list[float], p: float) -> float:
    return percentile([v * 1000 for v in values], p)


async def main(
    rate: float, seconds: float, clients: int, workers: int = 1, intake_ads: int = 10_000
) -> Report:
    report = Report(name="ads", title=f"On-site ads: {CAMPAIGNS} live campaigns, {rate:.0f} req/s")
    report.notes += [
        f"api: uvicorn, {workers} worker process(es), 127.0.0.1; embedded "
        "PostgreSQL; secret key "
        "(the storefront routes take either key; the lookup costs the same)",
        f"serving: open-loop at {rate:.0f} req/s for {seconds:.0f} s, {VISITORS} visitors, "
        "random placement and device; healthz sent the same way first",
        f"intake: {clients} concurrent clients; impression + duplicate + click per served ad "
        f"(those of the serving phase and {intake_ads} more served for it)",
        f"load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
        "(shared with other agents' work)",
    ]
    rng = random.Random(14)
    async with (
        bench_stack("ads") as stack,
        api_process(stack, workers=workers) as api_child,
        httpx.AsyncClient(
            base_url=api_child.base_url,
            # No pool timeout: when the api falls behind, requests wait (their latency shows it).
            timeout=httpx.Timeout(60, pool=None),
            # Idle connections are dropped before uvicorn's 5 s keep-alive closes them under us.
            limits=httpx.Limits(max_connections=max(clients, 64), keepalive_expiry=1.0),
        ) as api,
    ):
        store: BenchStore = await create_store(api, "ads bench")
        for k in range(CAMPAIGNS):
            made = await api.post(
                "/v1/ad-campaigns", json=campaign_body(k, rng), headers=store.headers
            )
            made.raise_for_status()

        def ad_request(i: int) -> dict[str, Any]:
            r = random.Random(i)
            return {
                "placement": r.choice(PLACEMENTS),
                "visitor_id": f"v{r.randrange(VISITORS)}",
                "device_type": r.choice(DEVICES),
                "category_id": f"cat{r.randrange(20)}",
            }

        # The measured traffic goes through the lean client (bench/loadgen.py): httpx's own CPU
        # per request queued even /healthz for seconds at 200 requests/s on this machine.
        load = LoadClient.for_url(api_child.base_url, store.headers)

        async def serve(i: int) -> Answer:
            return await load.post("/v1/storefront/ads", ad_request(i))

        # Warm up the connection pool and the api's code paths, then measure.
        await paced(50, 2, serve)
        console.print(f"healthz at {rate:.0f}/s for {seconds:.0f} s ...")
        phases = Phases(stack_processes(stack, api=api_child))
        count = int(rate * seconds)
        base_lat, _ = await phases.run(
            "healthz paced", count, paced(rate, seconds, lambda i: load.get("/healthz"))
        )
        console.print(f"serving at {rate:.0f}/s for {seconds:.0f} s ...")
        serve_lat, served = await phases.run("serve", count, paced(rate, seconds, serve))
        bad = [r.status_code for r in served if r.status_code not in (200, 204)]
        console.print(f"serving {intake_ads} more ads for the intake phases (not measured) ...")
        more = await collect(clients, list(range(count, count + intake_ads)), serve)
        bad += [r.status_code for r in more if r.status_code not in (200, 204)]
        tokens = [r.json()["impression_token"] for r in served + more if r.status_code == 200]
        # Half the served ads report one request per event, the other half in beacon batches.
        singles, batched = tokens[::2], tokens[1::2]
        jobs = [(t, "impression") for t in singles]
        jobs += [(t, "impression") for t in singles] + [(t, "click") for t in singles]
        # A beacon carries a page's events in order: each ad's impression, a repeat, its click.
        beacon = [(t, kind) for t in batched for kind in ("impression", "impression", "click")]
        batches = [beacon[i : i + BATCH] for i in range(0, len(beacon), BATCH)]

        async def post_event(job: tuple[str, str]) -> Answer:
            body = {"impression_token": job[0], "type": job[1]}
            return await load.post("/v1/storefront/ad-events", body)

        console.print(f"healthz x {len(jobs)} from {clients} clients ...")
        base_seconds, _ = await phases.run(
            "healthz hammered", len(jobs), hammer(clients, jobs, lambda job: load.get("/healthz"))
        )
        console.print(f"{len(jobs)} ad events from {clients} clients ...")
        event_seconds, statuses = await phases.run(
            "single events", len(jobs), hammer(clients, jobs, post_event)
        )

        async def post_batch(batch: list[tuple[str, str]]) -> Answer:
            body = {"events": [{"impression_token": t, "type": k} for t, k in batch]}
            return await load.post("/v1/storefront/ad-events/batch", body)

        console.print(f"{len(beacon)} ad events in batches of {BATCH} ...")
        batch_seconds, batch_statuses = await phases.run(
            "batched events", len(beacon), hammer(clients, batches, post_batch)
        )
        load.close()
        counted = await stack.scalar(
            "SELECT count(*) FILTER (WHERE impressed_at IS NOT NULL) + "
            "count(*) FILTER (WHERE clicked_at IS NOT NULL) FROM ad_impressions"
        )
    p95, base_p95 = ms(serve_lat, 95), ms(base_lat, 95)
    report.add(
        "serve latency p50 / p95 / p99, ms",
        f"{ms(serve_lat, 50):.1f} / {p95:.1f} / {ms(serve_lat, 99):.1f}",
        f"{ms(base_lat, 50):.1f} / {base_p95:.1f} / {ms(base_lat, 99):.1f} (healthz)",
    )
    report.add("serve p95, ms", f"{p95:.1f}", f"< {SERVE_P95_MS:.0f}", verdict(p95 < SERVE_P95_MS))
    served_ok = sum(r.status_code == 200 for r in served)
    report.add(
        "ads served (200) / none eligible (204)",
        f"{served_ok} / {sum(r.status_code == 204 for r in served)}",
    )
    report.add("other answers", str(len(bad)), "0", verdict(not bad))
    rate_events = len(jobs) / event_seconds
    base_rate = len(jobs) / base_seconds
    report.add(
        "ad events, events/s",
        f"{rate_events:.0f}",
        f">= {EVENTS_PER_SECOND:.0f} ({base_rate:.0f} healthz req/s)",
        verdict(rate_events >= EVENTS_PER_SECOND),
    )
    batch_rate = len(beacon) / batch_seconds
    report.add(
        f"ad events in beacon batches of {BATCH}, events/s",
        f"{batch_rate:.0f}",
        f">= {EVENTS_PER_SECOND:.0f} ({base_rate:.0f} healthz req/s)",
        verdict(batch_rate >= EVENTS_PER_SECOND),
    )
    report.add(
        "api CPU per request, ms: serve / healthz (paced)",
        f"{phases.api_ms('serve'):.2f}",
        f"{phases.api_ms('healthz paced'):.2f} (healthz)",
    )
    report.add(
        "api CPU per event, ms: single / in batches",
        f"{phases.api_ms('single events'):.2f} / {phases.api_ms('batched events'):.3f}",
        f"{phases.api_ms('healthz hammered'):.2f} (healthz)",
    )
    for name, used in phases.cpu.items():
        share = ", ".join(
            f"{k} {100 * v / used['wall']:.0f}%" for k, v in used.items() if k != "wall"
        )
        report.notes.append(f"CPU in phase '{name}' ({used['wall']:.1f} s): {share}")
    report.add(
        "ad event answers 202 (single / batch)",
        f"{statuses.count(202)} / {batch_statuses.count(202)}",
        f"{len(jobs)} / {len(batches)}",
        verdict(statuses.count(202) == len(jobs) and batch_statuses.count(202) == len(batches)),
    )
    report.add(
        "events counted (once each)",
        str(counted),
        str(2 * len(tokens)),
        verdict(counted == 2 * len(tokens)),
    )
    report.data.update(
        rate=rate,
        seconds=seconds,
        clients=clients,
        serve_p50_ms=ms(serve_lat, 50),
        serve_p95_ms=p95,
        serve_p99_ms=ms(serve_lat, 99),
        healthz_p95_ms=base_p95,
        served=served_ok,
        intake_tokens=len(tokens),
        events=len(jobs),
        events_per_second=rate_events,
        batched_events_per_second=batch_rate,
        workers=workers,
        healthz_per_second=base_rate,
        load_average_at_end=os.getloadavg()[0],
        cpu_seconds_per_phase=phases.cpu,
    )
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ads", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 s per phase")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--intake-ads", type=int, default=10_000, help="more ads served for the intake phases"
    )
    args = parser.parse_args()
    stop_on_sigterm()
    seconds = 5.0 if args.quick else args.seconds
    intake_ads = 1_000 if args.quick else args.intake_ads
    report = main(args.rate, seconds, args.clients, args.workers, intake_ads)
    publish(asyncio.run(report), console)


if __name__ == "__main__":
    cli()
