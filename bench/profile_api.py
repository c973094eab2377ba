"""Where the api's CPU goes: `POST /v1/checkout/evaluate` (the checkout benchmark's cart) or
`POST /v1/events` (the intake benchmark's batches of 100) or `POST /v1/storefront/ads` (the
ads benchmark's 100 campaigns), called straight through the ASGI app
in this process (no client, no socket) against the embedded PostgreSQL, under cProfile.

`python -m bench.profile_api checkout|intake|ads [--requests N] [--top N]`: prints the top entries
by own time and by cumulative time, and the api CPU per request measured without the profiler."""

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.main import create_app
from bench.checkout_data import bundles, cart_items, catalog, promotions
from bench.checkout_http import OPERATOR, seed
from bench.intake import encoded_batches
from config import Settings
from devstack.migrate import upgrade_database
from devstack.postgres import start_postgres

Call = Callable[[], Awaitable[None]]


async def asgi_post(
    app: FastAPI,
    path: str,
    body: bytes,
    headers: dict[str, str],
    method: str = "POST",
    answer: list[bytes] | None = None,
) -> int:
    """One request through the app as uvicorn hands it over; returns the status (and appends
    the body to `answer` when given)."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif answer is not None:
            answer.append(message.get("body", b""))

    await app(scope, receive, send)
    return status


async def checkout_call(app: FastAPI, client: httpx.AsyncClient) -> Call:
    rng = random.Random(3)
    products = catalog(rng)
    items = cart_items(rng, products, 50)
    promos = promotions(random.Random(5), products, 200, items, targeted=True)
    sets = bundles(rng, products, 20)
    headers, card, shopper = await seed(client, products, promos, sets)
    body = json.dumps(
        {
            "currency": "USD",
            "items": items,
            "shipping": 900,
            "shopper_token": shopper,
            "coupon_codes": ["BENCH10"],
            "gift_card_codes": [card],
        }
    ).encode()

    async def call() -> None:
        status = await asgi_post(app, "/v1/checkout/evaluate", body, headers)
        assert status == 200, status

    return call


async def intake_call(app: FastAPI, client: httpx.AsyncClient) -> Call:
    created = await client.post(
        "/v1/stores",
        json={"name": "Profile", "currency": "USD", "timezone": "UTC"},
        headers={"Authorization": f"Bearer {OPERATOR}"},
    )
    keys = {k["kind"]: k["key"] for k in created.raise_for_status().json()["keys"]}
    headers = {"Authorization": f"Bearer {keys['secret']}"}
    bodies = iter(encoded_batches(5000, "prof-", seed=1))

    async def call() -> None:
        status = await asgi_post(app, "/v1/events", next(bodies), headers)
        assert status == 202, status

    return call


async def ads_store(client: httpx.AsyncClient) -> str:
    """A store with the ads benchmark's 100 live campaigns; its secret key."""
    from bench.ads import CAMPAIGNS, campaign_body

    created = await client.post(
        "/v1/stores",
        json={"name": "Profile", "currency": "USD", "timezone": "UTC"},
        headers={"Authorization": f"Bearer {OPERATOR}"},
    )
    keys = {k["kind"]: k["key"] for k in created.raise_for_status().json()["keys"]}
    headers = {"Authorization": f"Bearer {keys['secret']}"}
    rng = random.Random(14)
    for k in range(CAMPAIGNS):
        made = await client.post("/v1/ad-campaigns", json=campaign_body(k, rng), headers=headers)
        made.raise_for_status()
    return str(keys["secret"])


async def ads_call(app: FastAPI, client: httpx.AsyncClient) -> Call:
    """`POST /v1/storefront/ads` with the ads benchmark's 100 live campaigns."""
    headers = {"Authorization": f"Bearer {await ads_store(client)}"}
    counter = iter(range(10**9))

    async def call() -> None:
        i = next(counter)
        body = {"placement": "homepage_hero", "visitor_id": f"v{i % 2000}", "device_type": "mobile"}
        status = await asgi_post(app, "/v1/storefront/ads", json.dumps(body).encode(), headers)
        assert status in (200, 204), status

    return call


async def cpu_per_call(call: Call, count: int) -> float:
    began = time.process_time()
    for _ in range(count):
        await call()
    return (time.process_time() - began) / max(count, 1)


async def ad_events_call(app: FastAPI, client: httpx.AsyncClient) -> Call:
    """`POST /v1/storefront/ad-events`: the impression of an ad served before (not timed)."""
    headers = {"Authorization": f"Bearer {await ads_store(client)}"}
    tokens: list[str] = []
    for i in range(3000):
        body = {"placement": "homepage_hero", "visitor_id": f"e{i}", "device_type": "mobile"}
        answer: list[bytes] = []
        await asgi_post(
            app, "/v1/storefront/ads", json.dumps(body).encode(), headers, "POST", answer
        )
        tokens.append(json.loads(b"".join(answer))["impression_token"])
    queue = iter(tokens)

    async def call() -> None:
        body = {"impression_token": next(queue), "type": "impression"}
        status = await asgi_post(
            app, "/v1/storefront/ad-events", json.dumps(body).encode(), headers
        )
        assert status == 202, status

    return call


CALLS = {
    "checkout": checkout_call,
    "intake": intake_call,
    "ads": ads_call,
    "ad_events": ad_events_call,
}


async def run(kind: str, requests: int, top: int, callers: str | None = None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="shopstar-profile-"))
    postgres = await asyncio.to_thread(start_postgres, workdir / "pg")
    try:
        await asyncio.to_thread(upgrade_database, postgres.url)
        settings = Settings(
            environment="test",
            database_url=postgres.url,
            operator_token=OPERATOR,
            log_level="WARNING",
            public_rate_limit=0,
            key_rate_limit=0,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                call = await CALLS[kind](app, client)
                for _ in range(30):
                    await call()
                # The least of 5 rounds: other processes' work only ever adds to a round.
                rounds = [await cpu_per_call(call, requests // 5) for _ in range(5)]
                cpu = min(rounds)

                async def health() -> None:
                    await asgi_post(app, "/healthz", b"", {}, method="GET")

                baseline = min([await cpu_per_call(health, requests // 5) for _ in range(5)])
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(requests):
                    await call()
                profile.disable()
        each = " ".join(f"{r * 1000:.2f}" for r in rounds)
        print(
            f"{kind}: {requests} requests, api CPU per request {cpu * 1000:.2f} ms "
            f"(no profiler, least of 5 rounds; all: {each}); "
            f"baseline GET /healthz through the same app {baseline * 1000:.2f} ms"
        )
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(top)
            print(out.getvalue())
        if callers:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).print_callers(callers)
            print(out.getvalue())
    finally:
        await asyncio.to_thread(postgres.stop)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=sorted(CALLS))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--callers", help="also print the callers of functions matching this")
    args = parser.parse_args()
    asyncio.run(run(args.kind, args.requests, args.top, args.callers))


if __name__ == "__main__":
    main()
