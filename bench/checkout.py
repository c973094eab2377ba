"""Checkout pricing speed: a 50-line cart against 200 live promotions of mixed kinds and 20
bundles, with a coupon, a gift card and a known customer.

a. In process: `price_cart` evaluations per second and p95, beside the same cart with no
   promotions or bundles (the baseline).
b. Over HTTP: p95 of `POST /v1/checkout/evaluate` on a real uvicorn (127.0.0.1) and the embedded
   PostgreSQL, 4 concurrent clients, beside `GET /healthz` under the same load (the baseline).

`python -m bench.checkout [--quick]`; bounded well under two minutes."""

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from bench.checkout_data import GROUP, Product, bundles, cart_items, catalog, promotions
from bench.report import Report, percentile, publish, verdict
from bench.stack import ChildProcess, CpuMeter, stop_on_sigterm, wait_until
from devstack.migrate import upgrade_database
from devstack.postgres import start_postgres
from devstack.temporal import free_port
from services import pricing

LINES, PROMOTIONS, BUNDLES, CLIENTS = 50, 200, 20, 4
IN_PROCESS_P95_MS, HTTP_P95_MS = 2.0, 15.0
OPERATOR = "bench-operator-token"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# --- a. in process ---------------------------------------------------------------------------


def pricing_inputs(
    products: list[Product],
    promos: list[dict[str, Any]],
    sets: list[dict[str, Any]],
    items: list[dict[str, Any]],
) -> tuple[pricing.Cart, list[pricing.Promotion], list[pricing.Bundle]]:
    """What checkout hands `price_cart`: free products priced, lines with their categories."""
    by_id = {p.id: p for p in products}
    parsed = []
    for k, body in enumerate(promos):
        promotion = pricing.promotion_from_dict(f"promo{k}", body, k)
        actions = tuple(
            replace(a, unit_price=by_id[a.product_id].price)
            if isinstance(a, pricing.FreeProduct) and a.product_id
            else a
            for a in promotion.actions
        )
        parsed.append(replace(promotion, actions=actions))
    lines = tuple(
        pricing.CartLine(
            i["product_id"],
            None,
            i["quantity"],
            i["unit_price"],
            tuple(by_id[i["product_id"]].categories),
        )
        for i in items
    )
    parsed_bundles = [pricing.bundle_from_dict(f"bundle{k}", b) for k, b in enumerate(sets)]
    return pricing.Cart("USD", lines, 900), parsed, parsed_bundles


def time_calls(call: Callable[[], object], seconds: float) -> list[float]:
    for _ in range(20):
        call()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def in_process(
    report: Report, targeted: tuple[Any, ...], stress: tuple[Any, ...], seconds: float
) -> None:
    customer = pricing.CustomerFacts("bench-customer", frozenset({GROUP}), True)
    cards = [pricing.GiftCardBalance("gc_bench", 5_000, "USD")]
    figures: dict[str, Any] = {}
    for name, (cart, promos, sets) in (("targeted", targeted), ("stress", stress)):
        coded = next(p for p in promos if p.requires_coupon)
        coupons = [pricing.AppliedCoupon("BENCH10", coded.id)]
        result = pricing.price_cart(cart, promos, sets, customer, coupons, cards)
        samples = time_calls(
            lambda: pricing.price_cart(cart, promos, sets, customer, coupons, cards),  # noqa: B023
            seconds if name == "targeted" else seconds / 2,
        )
        figures[name] = {
            "evaluations": len(samples),
            "per_second": len(samples) / sum(samples),
            "p50_ms": percentile(samples, 50) * 1000,
            "p95_ms": percentile(samples, 95) * 1000,
            "discounts_applied": len(result.discounts),
            "line_allocations": sum(len(d.lines) for d in result.discounts),
        }
    cart = targeted[0]
    bare = time_calls(lambda: pricing.price_cart(cart, [], [], customer, [], cards), seconds / 4)
    figures["baseline_p95_ms"] = percentile(bare, 95) * 1000
    main, worst = figures["targeted"], figures["stress"]
    report.add(
        f"in-process price_cart p95 ({main['discounts_applied']} discounts apply)",
        f"{main['p95_ms']:.2f} ms",
        f"< {IN_PROCESS_P95_MS} ms",
        verdict(main["p95_ms"] < IN_PROCESS_P95_MS),
    )
    report.add("in-process evaluations/s", f"{main['per_second']:,.0f}")
    report.add(
        f"stress: all {worst['discounts_applied']} discounts stack, p95",
        f"{worst['p95_ms']:.2f} ms",
        "for reference",
    )
    report.add(
        "in-process p95, no promotions or bundles",
        f"{figures['baseline_p95_ms']:.2f} ms",
        "baseline",
    )
    report.data["in_process"] = figures


# --- b. over HTTP ------------------------------------------------------------------------------


async def seed(
    api: httpx.AsyncClient,
    products: list[Product],
    promos: list[dict[str, Any]],
    sets: list[dict[str, Any]],
) -> tuple[dict[str, str], str]:
    """A store with the catalog, promotions, bundles, a coupon and a gift card."""
    store = await api.post(
        "/v1/stores",
        json={"name": "Bench", "currency": "USD", "timezone": "UTC"},
        headers={"Authorization": f"Bearer {OPERATOR}"},
    )
    keys = {k["kind"]: k["key"] for k in store.raise_for_status().json()["keys"]}
    admin = {"Authorization": f"Bearer {keys['secret']}"}
    events = [
        {
            "id": f"e{p.id}",
            "type": "product.upserted",
            "occurred_at": "2026-01-01T00:00:00Z",
            "data": {
                "product_id": p.id,
                "title": p.id,
                "price": p.price,
                "currency": "USD",
                "category_ids": p.categories,
                "available": True,
            },
        }
        for p in products
    ]
    events.append(
        {
            "id": "ecust",
            "type": "customer.upserted",
            "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"customer_id": "bench-customer", "shopper_groups": [GROUP]},
        }
    )
    (await api.post("/v1/events", json={"events": events}, headers=admin)).raise_for_status()
    coded = None
    for body in promos:
        created = (await api.post("/v1/promotions", json=body, headers=admin)).raise_for_status()
        if body.get("requires_coupon") and coded is None:
            coded = created.json()["id"]
    for body in sets:
        (await api.post("/v1/bundles", json=body, headers=admin)).raise_for_status()
    await api.post(
        "/v1/coupons",
        json={"promotion_id": coded, "code": "BENCH10", "usage": "unrestricted"},
        headers=admin,
    )
    card = await api.post(
        "/v1/gift-cards", json={"initial_balance": 5_000, "currency": "USD"}, headers=admin
    )
    return {"Authorization": f"Bearer {keys['publishable']}"}, card.json()["code"]


async def under_load(send: Callable[[], Awaitable[httpx.Response]], requests: int) -> list[float]:
    """`requests` calls shared by CLIENTS concurrent clients; the latency of each."""
    samples: list[float] = []

    async def client(count: int) -> None:
        for _ in range(count):
            start = time.perf_counter()
            response = await send()
            samples.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

    await asyncio.gather(*(client(requests // CLIENTS) for _ in range(CLIENTS)))
    return samples


@contextlib.asynccontextmanager
async def uvicorn(
    database_url: str, workdir: Path, workers: int
) -> AsyncIterator[tuple[httpx.AsyncClient, ChildProcess]]:
    """The api as production runs it, on 127.0.0.1; a client limited to CLIENTS connections."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSTAR_")}
    env |= {
        "DATABASE_URL": database_url,
        "SHOPSTAR_OPERATOR_TOKEN": OPERATOR,
        "SHOPSTAR_ENVIRONMENT": "test",
        "SHOPSTAR_LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    argv += ["--log-level", "warning", "--no-access-log"]
    child = ChildProcess("api", argv, env, workdir / f"api-{workers}.log")
    try:
        limits = httpx.Limits(max_connections=CLIENTS)
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=10, limits=limits) as api:

            async def healthy() -> bool:
                child.check_running()
                try:
                    return (await api.get("/healthz")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_until(healthy, 60, "the api to answer /healthz")
            yield api, child
    finally:
        await asyncio.to_thread(child.stop)


async def measure(
    api: httpx.AsyncClient,
    cpu: CpuMeter,
    headers: dict[str, str],
    card: str,
    items: list[dict[str, Any]],
    requests: int,
) -> tuple[list[float], list[float], dict[str, float]]:
    """Latencies of evaluate under CLIENTS concurrent clients, the CPU milliseconds each took
    per process tree, then the latencies of /healthz under the same load."""
    body = {
        "currency": "USD",
        "items": items,
        "shipping": 900,
        "customer_id": "bench-customer",
        "coupon_codes": ["BENCH10"],
        "gift_card_codes": [card],
    }

    async def evaluate() -> httpx.Response:
        return await api.post("/v1/checkout/evaluate", json=body, headers=headers)

    await under_load(evaluate, 80)  # warm: connections, caches, plans
    cpu.start()
    started = time.monotonic()
    samples = await under_load(evaluate, requests)
    wall = time.monotonic() - started
    used = {name: pct / 100 * wall / len(samples) * 1000 for name, pct in cpu.percent().items()}
    health = await under_load(lambda: api.get("/healthz"), requests // 2)
    return samples, health, used


async def over_http(
    report: Report, data: tuple[Any, ...], requests: int, workers: tuple[int, ...]
) -> None:
    products, promos, sets, items = data
    workdir = Path(tempfile.mkdtemp(prefix="shopstar-bench-checkout-"))
    postgres = await asyncio.to_thread(start_postgres, workdir / "pg")
    seeded: tuple[dict[str, str], str] | None = None
    try:
        await asyncio.to_thread(upgrade_database, postgres.url)
        for count in workers:
            async with uvicorn(postgres.url, workdir, count) as (api, child):
                seeded = seeded or await seed(api, products, promos, sets)
                roots = {"api": child.process.pid, "bench client": os.getpid()}
                if pg_pid := postgres.server.get_pid():
                    roots["postgres"] = pg_pid
                measured = await measure(api, CpuMeter(roots), *seeded, items, requests)
            _http_rows(report, count, *measured, judged=count == workers[0])
    finally:
        await asyncio.to_thread(postgres.stop)
        shutil.rmtree(workdir, ignore_errors=True)


def _http_rows(
    report: Report,
    workers: int,
    samples: list[float],
    health: list[float],
    cpu_ms: dict[str, float],
    *,
    judged: bool,
) -> None:
    p95, base = percentile(samples, 95), percentile(health, 95)
    setup = f"{workers} worker{'s' if workers > 1 else ''}"
    report.add(
        f"HTTP evaluate p95 ({setup}, {CLIENTS} clients)",
        ms(p95),
        f"< {HTTP_P95_MS} ms",
        verdict(p95 * 1000 < HTTP_P95_MS) if judged else "",
    )
    report.add(f"HTTP evaluate p50 ({setup})", ms(percentile(samples, 50)))
    report.add(
        f"HTTP evaluate requests/s ({setup})", f"{len(samples) / sum(samples) * CLIENTS:,.0f}"
    )
    report.add(
        f"CPU per evaluate ({setup}): api / postgres / client",
        " / ".join(f"{cpu_ms.get(k, 0):.1f}" for k in ("api", "postgres", "bench client")) + " ms",
    )
    report.add(f"HTTP GET /healthz p95 ({setup})", ms(base), "baseline")
    report.data.setdefault("http", {})[f"workers_{workers}"] = {
        "requests": len(samples),
        "clients": CLIENTS,
        "p50_ms": percentile(samples, 50) * 1000,
        "p95_ms": p95 * 1000,
        "p99_ms": percentile(samples, 99) * 1000,
        "healthz_p95_ms": base * 1000,
        "cpu_ms_per_request": cpu_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="uvicorn worker counts to measure"
    )
    args = parser.parse_args()
    stop_on_sigterm()
    rng = random.Random(3)
    products = catalog(rng)
    items = cart_items(rng, products, LINES)
    promos = promotions(random.Random(5), products, PROMOTIONS, items, targeted=True)
    every = promotions(random.Random(5), products, PROMOTIONS, items, targeted=False)
    sets = bundles(rng, products, BUNDLES)
    report = Report(
        "checkout", f"Checkout: {LINES}-line cart, {PROMOTIONS} promotions, {BUNDLES} bundles"
    )
    in_process(
        report,
        pricing_inputs(products, promos, sets, items),
        pricing_inputs(products, every, sets, items),
        1.0 if args.quick else 4.0,
    )
    data = (products, promos, sets, items)
    asyncio.run(over_http(report, data, 200 if args.quick else 1600, tuple(args.workers)))
    report.notes += [
        "in process: services.pricing.price_cart only (inputs already loaded); HTTP: auth, "
        "loading promotions/bundles/codes/customer, pricing, JSON; targeted promotions",
        "targeted: 9 in 10 promotions carry a condition this cart does not meet (audience, "
        "product, basket size); stress: none does, so every promotion stacks on the cart",
    ]
    publish(report)


if __name__ == "__main__":
    main()
