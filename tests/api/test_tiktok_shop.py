"""TikTok Shop through the HTTP API against a local fake of the Partner API: signed order
webhooks become engine events (`channel: tiktok_shop`), anything unsigned changes nothing, and
the catalog sync pushes signed product requests, keeping a product dirty until TikTok took it."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from api.main import create_app
from config import Settings
from models import CatalogSyncItem, Event
from models.database import SessionMaker
from services.channels.connections import ChannelKeys
from services.channels.tiktok_catalog import sync_once
from tests.conftest import StoreKeys, event
from tests.tiktok_fake import (
    FakeTikTok,
    connect,
    signed_webhook,
    status_change,
    tiktok_order,
)


@pytest.fixture
async def direct(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The api with no base-URL override: the connection goes to the fake it names."""
    app = create_app(settings.model_copy(update={"channel_base_url_override": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeTikTok:
    return FakeTikTok(httpserver).install()


async def events_of(sessionmaker: SessionMaker, store_id: str) -> list[tuple[str, str, Any]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Event.event_id, Event.type, Event.data)
            .where(Event.store_id == store_id)
            .order_by(Event.seq)
        )
        return [(r.event_id, r.type, r.data) for r in rows]


def hook(store: StoreKeys) -> str:
    return f"/v1/webhooks/tiktok-shop/{store.id}"


async def test_a_signed_paid_order_is_an_order_placed_once(
    direct: httpx.AsyncClient, store: StoreKeys, fake: FakeTikTok, sessionmaker: SessionMaker
) -> None:
    await connect(direct, store.auth(), fake)
    fake.orders["5764"] = tiktok_order("5764", "AWAITING_SHIPMENT")
    first = await direct.post(
        hook(store), **signed_webhook(status_change("5764", "AWAITING_SHIPMENT"))
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 1, "duplicates": 0}
    stored = await events_of(sessionmaker, store.id)
    assert [(i, t) for i, t, _ in stored] == [("tiktok_shop:5764:placed", "order.placed")]
    data = stored[0][2]
    assert data["order_id"] == "tts_5764" and data["channel"] == "tiktok_shop"
    assert data["customer_id"] == "tts_7021436810468230477"
    assert (data["currency"], data["total"], data["shipping"]) == ("USD", 10300, 500)
    assert data["items"] == [{"product_id": "p_1", "quantity": 2, "unit_price": 4900}]
    # The same webhook again, and a later status of the same order: nothing new.
    again = await direct.post(
        hook(store), **signed_webhook(status_change("5764", "AWAITING_SHIPMENT"))
    )
    assert again.json() == {"accepted": 0, "duplicates": 1}
    fake.orders["5764"]["status"] = "IN_TRANSIT"
    later = await direct.post(hook(store), **signed_webhook(status_change("5764", "IN_TRANSIT")))
    assert later.json() == {"accepted": 0, "duplicates": 1}
    assert len(await events_of(sessionmaker, store.id)) == 1
    # The order's events are the store's like any other: shown with the channel.
    orders = await direct.get("/v1/orders/tts_5764/attribution", headers=store.auth())
    assert orders.status_code == 200, orders.text


async def test_a_bad_signature_or_no_connection_is_401_and_changes_nothing(
    direct: httpx.AsyncClient, store: StoreKeys, fake: FakeTikTok, sessionmaker: SessionMaker
) -> None:
    fake.orders["5764"] = tiktok_order("5764", "AWAITING_SHIPMENT")
    payload = status_change("5764", "AWAITING_SHIPMENT")
    unconnected = await direct.post(hook(store), **signed_webhook(payload))
    assert unconnected.status_code == 401
    assert unconnected.json()["error"]["code"] == "unauthorized"
    await connect(direct, store.auth(), fake)
    calls = len(fake.calls)
    forged = await direct.post(hook(store), **signed_webhook(payload, secret="guessed"))
    assert forged.status_code == 401
    unsigned = await direct.post(hook(store), json=payload)
    assert unsigned.status_code == 401
    # A signature of another body does not pass for this one.
    good = signed_webhook(payload)
    tampered = await direct.post(
        hook(store), content=good["content"].replace(b"5764", b"5765"), headers=good["headers"]
    )
    assert tampered.status_code == 401
    assert await events_of(sessionmaker, store.id) == []
    assert len(fake.calls) == calls  # TikTok was not even asked


async def test_a_cancelled_order_is_placed_then_cancelled(
    direct: httpx.AsyncClient, store: StoreKeys, fake: FakeTikTok, sessionmaker: SessionMaker
) -> None:
    await connect(direct, store.auth(), fake)
    fake.orders["77"] = tiktok_order("77", "CANCELLED")
    response = await direct.post(hook(store), **signed_webhook(status_change("77", "CANCELLED")))
    assert response.json() == {"accepted": 2, "duplicates": 0}
    stored = await events_of(sessionmaker, store.id)
    assert [(i, t) for i, t, _ in stored] == [
        ("tiktok_shop:77:placed", "order.placed"),
        ("tiktok_shop:77:cancelled", "order.cancelled"),
    ]
    assert stored[1][2] == {"order_id": "tts_77"}
    # Cancelled before it was paid: nothing happened for the engine.
    fake.orders["78"] = tiktok_order("78", "CANCELLED", paid_time=None)
    unpaid = await direct.post(hook(store), **signed_webhook(status_change("78", "CANCELLED")))
    assert unpaid.json() == {"accepted": 0, "duplicates": 0}


async def test_a_tiktok_that_cannot_be_asked_is_503_and_retried_later(
    direct: httpx.AsyncClient, store: StoreKeys, fake: FakeTikTok, sessionmaker: SessionMaker
) -> None:
    await connect(direct, store.auth(), fake)
    fake.orders["9"] = tiktok_order("9", "AWAITING_SHIPMENT")
    fake.down = True
    down = await direct.post(hook(store), **signed_webhook(status_change("9", "AWAITING_SHIPMENT")))
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "channel_unavailable"
    assert int(down.headers["Retry-After"]) > 0
    assert await events_of(sessionmaker, store.id) == []
    listed = (await direct.get("/v1/channels", headers=store.auth())).json()["items"]
    tiktok = next(c for c in listed if c["network"] == "tiktok_shop")
    assert tiktok["state"] == "error" and "503" in tiktok["last_error"]
    # TikTok retries the webhook: once it can be asked, the order is in.
    fake.down = False
    retried = await direct.post(
        hook(store), **signed_webhook(status_change("9", "AWAITING_SHIPMENT"))
    )
    assert retried.json() == {"accepted": 1, "duplicates": 0}


def product(product_id: str, title: str = "Linen shirt", **extra: Any) -> dict[str, Any]:
    data = {
        "product_id": product_id,
        "title": title,
        "price": 4900,
        "currency": "USD",
        "category_ids": ["shirts"],
        "available": True,
        **extra,
    }
    return event("product.upserted", data)


async def rows(sessionmaker: SessionMaker, store_id: str) -> dict[str, CatalogSyncItem]:
    async with sessionmaker() as session:
        found = await session.scalars(
            select(CatalogSyncItem).where(CatalogSyncItem.store_id == store_id)
        )
        return {r.product_id: r for r in found}


async def test_the_catalog_sync_pushes_signed_products_and_keeps_failures_dirty(
    direct: httpx.AsyncClient,
    store: StoreKeys,
    fake: FakeTikTok,
    sessionmaker: SessionMaker,
    settings: Settings,
) -> None:
    keys = ChannelKeys(settings.channel_secret_key, local_allowed=True)
    # A store without a TikTok Shop: nothing is marked.
    batch = {"events": [product("p_0")]}
    assert (await direct.post("/v1/events", json=batch, headers=store.auth())).status_code == 202
    assert await rows(sessionmaker, store.id) == {}
    await connect(direct, store.auth(), fake)
    variants = [
        {"variant_id": "v_s", "price": 4900, "available": True},
        {"variant_id": "v_m", "price": 5100, "available": False},
    ]
    batch = {"events": [product("p_1", variants=variants), product("p_2", title="Cap")]}
    assert (await direct.post("/v1/events", json=batch, headers=store.auth())).status_code == 202
    assert {p: r.dirty for p, r in (await rows(sessionmaker, store.id)).items()} == {
        "p_1": True,
        "p_2": True,
    }
    # TikTok down: nothing lost, both stay dirty, staff see why.
    fake.down = True
    wait = await sync_once(sessionmaker, store.id, keys)
    assert wait is not None and wait > 0
    marked = await rows(sessionmaker, store.id)
    assert all(r.dirty and r.remote_id is None for r in marked.values())
    assert "503" in (marked["p_1"].last_error or "")
    listed = (await direct.get("/v1/channels", headers=store.auth())).json()["items"]
    assert next(c for c in listed if c["network"] == "tiktok_shop")["state"] == "error"
    # Back up, and the backoff over: pushed (signed, checked by the fake), ids recorded.
    fake.down = False
    await due_now(sessionmaker, store.id)
    assert await sync_once(sessionmaker, store.id, keys) is None
    pushed = await rows(sessionmaker, store.id)
    assert all(not r.dirty and r.remote_id and r.last_error is None for r in pushed.values())
    shirt = fake.products[pushed["p_1"].remote_id or ""]
    assert [
        (s["seller_sku"], s["price"]["amount"], s["inventory"][0]["quantity"])
        for s in shirt["skus"]
    ] == [
        ("v_m", "51.00", 0),
        ("v_s", "49.00", 999),
    ]
    # A change within the minute waits for it; then an update of the same TikTok product.
    batch = {"events": [product("p_1", title="Linen shirt, blue")]}
    await direct.post("/v1/events", json=batch, headers=store.auth())
    wait = await sync_once(sessionmaker, store.id, keys)
    assert wait is not None and 0 < wait <= 60
    await due_now(sessionmaker, store.id)
    assert await sync_once(sessionmaker, store.id, keys) is None
    assert fake.products[pushed["p_1"].remote_id or ""]["title"] == "Linen shirt, blue"
    # TikTok refuses a product: kept dirty with TikTok's reason.
    fake.refusal = (12052700, "category is required")
    batch = {"events": [product("p_3", title="Sock")]}
    await direct.post("/v1/events", json=batch, headers=store.auth())
    assert await sync_once(sessionmaker, store.id, keys) is not None
    refused = (await rows(sessionmaker, store.id))["p_3"]
    assert refused.dirty and "category is required" in (refused.last_error or "")
    # A deleted product is deactivated.
    fake.refusal = None
    deleted = event("product.deleted", {"product_id": "p_2"})
    await direct.post("/v1/events", json={"events": [deleted]}, headers=store.auth())
    await due_now(sessionmaker, store.id)
    assert await sync_once(sessionmaker, store.id, keys) is None
    assert fake.deactivated == [pushed["p_2"].remote_id]


async def due_now(sessionmaker: SessionMaker, store_id: str) -> None:
    """The minute (or the backoff) over, without waiting for it."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    async with sessionmaker.begin() as session:
        await session.execute(
            update(CatalogSyncItem)
            .where(CatalogSyncItem.store_id == store_id)
            .values(due_at=datetime.now(UTC), attempted_at=None)
        )
