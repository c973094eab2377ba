"""Limits a caller meets in the envelope: a body too large (413, before it is read), too many
requests (429 with Retry-After), a database that is down (503 with Retry-After); and the headers
every answer carries."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.guard import GuardedRoute
from api.main import create_app
from config import Settings
from devstack.temporal import free_port
from tests.conftest import OPERATOR, StoreKeys


async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # Slow enough that no token comes back during the test, however loaded the machine: a
    # burst of one request, then ten seconds to the next token.
    update = {"public_rate_limit": 0.1, "key_rate_limit": 0.1}
    async for client in client_for(settings.model_copy(update=update)):
        yield client


@pytest.fixture
async def no_database(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    async for client in client_for(settings.model_copy(update={"database_url": url})):
        yield client


async def test_a_body_over_the_limit_is_413_before_it_is_read(
    api: httpx.AsyncClient, store: StoreKeys, settings: Settings
) -> None:
    big = b'{"events": [' + b" " * (settings.max_events_body_bytes + 1) + b"]}"
    response = await api.post(
        "/v1/events", content=big, headers={**store.auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b" " * 65536

    streamed = await api.post(
        "/v1/promotions", content=chunked(), headers={**store.auth(), "Content-Type": "x/y"}
    )
    assert streamed.status_code == 413


async def test_too_many_requests_is_429_per_key_and_per_ip(
    limited: httpx.AsyncClient, api: httpx.AsyncClient, store: StoreKeys
) -> None:
    statuses = [
        (await limited.get("/v1/flows", headers=store.auth())).status_code for _ in range(3)
    ]
    assert statuses == [200, 429, 429]  # the burst (one request), then refused
    refused = await limited.get("/v1/flows", headers=store.auth())
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    # Another store's key has its own budget.
    other = await api.post(
        "/v1/stores",
        json={"name": "Other", "currency": "USD", "timezone": "UTC"},
        headers={"Authorization": f"Bearer {OPERATOR}"},
    )
    secret = next(k["key"] for k in other.json()["keys"] if k["kind"] == "secret")
    ok = await limited.get("/v1/flows", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200
    # The storefront's endpoints are limited per client IP, whatever the key.
    path = "/v1/storefront/products/p_1/recommendations"
    public = [
        (await limited.get(path, headers=store.auth("publishable"))).status_code for _ in range(3)
    ]
    assert public[0] != 429 and public[1:] == [429, 429]
    # Probes are never throttled.
    assert {(await limited.get("/healthz")).status_code for _ in range(20)} == {200}


async def test_a_database_that_is_down_is_503_with_retry_after(
    no_database: httpx.AsyncClient,
) -> None:
    response = await no_database.post(
        "/v1/events", json={"events": []}, headers={"Authorization": "Bearer sk_x"}
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"


async def test_answers_carry_security_headers_and_keys_are_never_cached(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post(
        "/v1/stores",
        json={"name": "Headers", "currency": "USD", "timezone": "UTC"},
        headers={"Authorization": f"Bearer {OPERATOR}"},
    )
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    assert created.headers["X-Content-Type-Options"] == "nosniff"
    assert created.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in created.headers["Content-Security-Policy"]
    assert (await api.get("/healthz")).headers["X-Content-Type-Options"] == "nosniff"


def leaf_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes themselves, through the routers FastAPI includes without flattening."""
    found: list[BaseRoute] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found += leaf_routes(included.routes) if included is not None else [route]
    return found


def test_every_route_is_guarded(settings: Settings) -> None:
    app = create_app(settings)
    # Every operation of the API (the docs pages are not operations).
    routes = [r for r in leaf_routes(app.routes) if isinstance(r, APIRoute) and r.include_in_schema]
    assert routes and all(isinstance(r, GuardedRoute) for r in routes), [
        r.path for r in routes if not isinstance(r, GuardedRoute)
    ]
