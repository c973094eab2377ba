"""The HTTP half of the checkout benchmark: a real uvicorn on 127.0.0.1 and the embedded
PostgreSQL in a temporary folder, the store seeded through the API, then `POST
/v1/checkout/evaluate` under CLIENTS concurrent clients beside `GET /healthz` (the baseline)."""

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.checkout_data import GROUP, Product
from bench.report import Report, percentile, verdict
from bench.stack import BenchProcess, CpuMeter, wait_until
from devstack.migrate import upgrade_database
from devstack.postgres import start_postgres
from devstack.temporal import free_port

CLIENTS = 4
HTTP_P95_MS = 15.0
OPERATOR = "bench-operator-token"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def seed(
    api: httpx.AsyncClient,
    products: list[Product],
    promos: list[dict[str, Any]],
    sets: list[dict[str, Any]],
) -> tuple[dict[str, str], str, str]:
    """A store with the catalog, promotions, bundles, a coupon, a gift card and a shopper token
    (a publishable key gets customer pricing only with one)."""
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
    token = await api.post(
        "/v1/shopper-tokens",
        json={"customer_id": "bench-customer", "ttl_seconds": 3600},
        headers=admin,
    )
    shopper = token.raise_for_status().json()["token"]
    return {"Authorization": f"Bearer {keys['publishable']}"}, card.json()["code"], shopper


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
) -> AsyncIterator[tuple[httpx.AsyncClient, BenchProcess]]:
    """The api as production runs it, on 127.0.0.1; a client limited to CLIENTS connections."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSTAR_")}
    env |= {
        "DATABASE_URL": database_url,
        "SHOPSTAR_OPERATOR_TOKEN": OPERATOR,
        "SHOPSTAR_ENVIRONMENT": "test",
        "SHOPSTAR_LOG_LEVEL": "WARNING",
        # A load test is many requests from one address and one key: the limits say 0.
        "SHOPSTAR_PUBLIC_RATE_LIMIT": "0",
        "SHOPSTAR_KEY_RATE_LIMIT": "0",
    }
    argv = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    argv += ["--log-level", "warning", "--no-access-log"]
    child = BenchProcess("api", argv, env, workdir / f"api-{workers}.log")
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
    shopper_token: str,
    items: list[dict[str, Any]],
    requests: int,
) -> tuple[list[float], list[float], dict[str, float]]:
    """Latencies of evaluate under CLIENTS concurrent clients, the CPU milliseconds each took
    per process tree, then the latencies of /healthz under the same load."""
    body = {
        "currency": "USD",
        "items": items,
        "shipping": 900,
        "shopper_token": shopper_token,
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
    seeded: tuple[dict[str, str], str, str] | None = None
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
