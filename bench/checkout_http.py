"""The HTTP half of the checkout benchmark: a real uvicorn on 127.0.0.1 and the embedded
PostgreSQL in a temporary folder, the store seeded through the API, then `POST
/v1/checkout/evaluate` under CLIENTS concurrent clients beside `GET /healthz` (the baseline)."""

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from bench.checkout_data import GROUP, Product
from bench.loadgen import Answer, LoadClient
from bench.report import Report, percentile, verdict
from bench.stack import BenchProcess, CpuMeter, wait_until
from devstack.migrate import upgrade_database
from devstack.postgres import start_postgres
from devstack.temporal import free_port

CLIENTS = 4
HTTP_P95_MS = 15.0
HTTP_P95_ONE_CLIENT_MS = 5.0
API_CPU_MS = 3.0  # api CPU per evaluate
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


async def under_load(
    send: Callable[[], Awaitable[Answer]], requests: int, clients: int = CLIENTS
) -> list[float]:
    """`requests` calls shared by `clients` concurrent clients; the latency of each."""
    samples: list[float] = []

    async def client(count: int) -> None:
        for _ in range(count):
            start = time.perf_counter()
            response = await send()
            samples.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")

    await asyncio.gather(*(client(requests // clients) for _ in range(clients)))
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


class Measured(NamedTuple):
    samples: list[float]  # evaluate latencies, CLIENTS clients
    one_client: list[float]  # evaluate latencies, one client (no queueing)
    health: list[float]  # /healthz latencies, CLIENTS clients
    cpu_ms: dict[str, float]  # CPU ms per evaluate, per process tree
    health_cpu_ms: dict[str, float]  # CPU ms per /healthz, per process tree


async def _metered(
    cpu: CpuMeter, send: Callable[[], Awaitable[Answer]], requests: int, clients: int
) -> tuple[list[float], dict[str, float]]:
    """Latencies, and the CPU milliseconds per request of each process tree (from /proc)."""
    cpu.start()
    started = time.monotonic()
    samples = await under_load(send, requests, clients)
    wall = time.monotonic() - started
    used = {name: pct / 100 * wall / len(samples) * 1000 for name, pct in cpu.percent().items()}
    return samples, used


async def measure(
    api: httpx.AsyncClient,
    cpu: CpuMeter,
    headers: dict[str, str],
    card: str,
    shopper_token: str,
    items: list[dict[str, Any]],
    requests: int,
) -> Measured:
    """Evaluate under CLIENTS concurrent clients and under one, with the CPU milliseconds each
    took per process tree; then /healthz under the same load (the baseline: what any request
    costs this api process)."""
    body = {
        "currency": "USD",
        "items": items,
        "shipping": 900,
        "shopper_token": shopper_token,
        "coupon_codes": ["BENCH10"],
        "gift_card_codes": [card],
    }

    # Through the lean client (bench/loadgen.py): httpx's own CPU per request would be most of
    # a 1-client latency and compete with the api for the 2 cores.
    load = LoadClient.for_url(str(api.base_url).rstrip("/"), headers)
    encoded = json.dumps(body).encode()

    async def evaluate() -> Answer:
        return await load.request("POST", "/v1/checkout/evaluate", encoded)

    await under_load(evaluate, 80)  # warm: connections, caches, plans
    samples, used = await _metered(cpu, evaluate, requests, CLIENTS)
    one_client = await under_load(evaluate, requests // 2, 1)
    health, health_used = await _metered(cpu, lambda: load.get("/healthz"), requests // 2, CLIENTS)
    load.close()
    return Measured(samples, one_client, health, used, health_used)


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
            _http_rows(report, count, measured, judged=count == workers[0])
    finally:
        await asyncio.to_thread(postgres.stop)
        shutil.rmtree(workdir, ignore_errors=True)


def _http_rows(report: Report, workers: int, m: Measured, *, judged: bool) -> None:
    p95, base = percentile(m.samples, 95), percentile(m.health, 95)
    one = percentile(m.one_client, 95)
    setup = f"{workers} worker{'s' if workers > 1 else ''}"
    api_ms = m.cpu_ms.get("api", 0)
    report.add(
        f"api CPU per evaluate ({setup}; baseline: per GET /healthz)",
        f"{api_ms:.2f} ms",
        f"<= {API_CPU_MS} ms; healthz {m.health_cpu_ms.get('api', 0):.2f} ms",
        verdict(api_ms <= API_CPU_MS) if judged else "",
    )
    report.add(
        f"HTTP evaluate p95 ({setup}, {CLIENTS} clients; baseline: healthz p95)",
        ms(p95),
        f"< {HTTP_P95_MS} ms; healthz {ms(base)}",
        verdict(p95 * 1000 < HTTP_P95_MS) if judged else "",
    )
    report.add(
        f"HTTP evaluate p95 ({setup}, 1 client, no queueing)",
        ms(one),
        f"< {HTTP_P95_ONE_CLIENT_MS} ms",
        verdict(one * 1000 < HTTP_P95_ONE_CLIENT_MS) if judged else "",
    )
    report.add(f"HTTP evaluate p50 ({setup}, {CLIENTS} clients)", ms(percentile(m.samples, 50)))
    report.add(
        f"HTTP evaluate requests/s ({setup})", f"{len(m.samples) / sum(m.samples) * CLIENTS:,.0f}"
    )
    report.add(
        f"CPU per evaluate ({setup}): api / postgres / client",
        " / ".join(f"{m.cpu_ms.get(k, 0):.1f}" for k in ("api", "postgres", "bench client"))
        + " ms",
        f"others on the machine {m.cpu_ms.get('others', 0):.1f} ms",
    )
    report.data.setdefault("http", {})[f"workers_{workers}"] = {
        "requests": len(m.samples),
        "clients": CLIENTS,
        "p50_ms": percentile(m.samples, 50) * 1000,
        "p95_ms": p95 * 1000,
        "p99_ms": percentile(m.samples, 99) * 1000,
        "one_client_p95_ms": one * 1000,
        "healthz_p95_ms": base * 1000,
        "cpu_ms_per_request": m.cpu_ms,
        "healthz_cpu_ms_per_request": m.health_cpu_ms,
    }
