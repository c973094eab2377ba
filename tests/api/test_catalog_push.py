"""The catalog push to Merchant Center (Merchant API product inputs) and Meta (`items_batch`,
polled) through the HTTP API, against local fakes that check what the networks check: a change
is pushed once, a second one within the minute waits, a refused item keeps only its product
dirty, an outage keeps everything dirty until it is over, a deletion removes the items, and a
product missing a required attribute is not pushed, with the feeds' reason recorded."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update

from api.main import create_app
from config import Settings
from models import CatalogSyncItem
from models.database import SessionMaker
from services.channels import catalog_push
from services.channels.catalog_push import sync_once
from services.channels.connections import ChannelKeys, Network
from tests.catalog_fakes import META as META_IDS
from tests.catalog_fakes import FakeMerchant, FakeMetaCatalog, connect_catalogs
from tests.conftest import StoreKeys, event

MC, META = Network.MERCHANT_CENTER, Network.META


@pytest.fixture
async def direct(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The api with no base-URL override: the connections go to the fakes they name."""
    app = create_app(settings.model_copy(update={"channel_base_url_override": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_push, "META_POLL_SECONDS", 0.0)


def product(product_id: str, title: str = "Linen shirt", **extra: Any) -> dict[str, Any]:
    data = {
        "product_id": product_id,
        "title": title,
        "description": "Breathable linen.",
        "url": f"https://shop.example/p/{product_id}",
        "image_url": f"https://shop.example/i/{product_id}.jpg",
        "brand": "Tents",
        "price": 4900,
        "currency": "USD",
        "category_ids": ["shirts"],
        "available": True,
        **extra,
    }
    return event("product.upserted", data)


async def post(api: httpx.AsyncClient, store: StoreKeys, *events: dict[str, Any]) -> None:
    response = await api.post("/v1/events", json={"events": list(events)}, headers=store.auth())
    assert response.status_code == 202, response.text


async def rows(sessionmaker: SessionMaker, store_id: str, network: Network) -> dict[str, Any]:
    async with sessionmaker() as session:
        found = await session.scalars(
            select(CatalogSyncItem).where(
                CatalogSyncItem.store_id == store_id, CatalogSyncItem.network == str(network)
            )
        )
        return {r.product_id: r for r in found}


async def due_now(sessionmaker: SessionMaker, store_id: str) -> None:
    """The minute (or the backoff) over, without waiting for it."""
    async with sessionmaker.begin() as session:
        await session.execute(
            update(CatalogSyncItem)
            .where(CatalogSyncItem.store_id == store_id)
            .values(due_at=datetime.now(UTC), attempted_at=None)
        )


async def states(api: httpx.AsyncClient, store: StoreKeys) -> dict[str, str]:
    listed = (await api.get("/v1/channels", headers=store.auth())).json()["items"]
    return {c["network"]: c["state"] for c in listed}


async def test_a_product_change_is_pushed_to_both_networks_once_then_kept_in_sync(
    direct: httpx.AsyncClient,
    store: StoreKeys,
    httpserver: HTTPServer,
    sessionmaker: SessionMaker,
    settings: Settings,
) -> None:
    keys = ChannelKeys(settings.channel_secret_key, local_allowed=True)
    merchant = FakeMerchant(httpserver).install()
    meta = FakeMetaCatalog(httpserver).install()
    await connect_catalogs(direct, store.auth(), httpserver.url_for("").rstrip("/"))
    variants = [
        {"variant_id": "v_s", "price": 4900, "available": True},
        {"variant_id": "v_m", "price": 5100, "available": False},
    ]
    await post(
        direct,
        store,
        product("p_1", variants=variants),
        product("p_2", title="Cap", price=1500),
        product("p_3", title="Sock", image_url=None),  # no image: neither network takes it
    )
    for network in (MC, META):
        assert await sync_once(sessionmaker, store.id, network, keys) is None
    # Merchant Center: one input per variant, the price in micros, the product its group.
    shirt = merchant.inputs["v_m"]
    assert (shirt["channel"], shirt["contentLanguage"], shirt["feedLabel"]) == (
        "ONLINE",
        "en",
        "US",
    )
    assert shirt["attributes"]["price"] == {"amountMicros": "51000000", "currencyCode": "USD"}
    assert shirt["attributes"]["availability"] == "out_of_stock"
    assert shirt["attributes"]["itemGroupId"] == "p_1"
    assert "itemGroupId" not in merchant.inputs["p_2"]["attributes"]
    # Meta: the feed's fields, `15.00 USD`, its availability words.
    assert meta.items["p_2"]["price"] == "15.00 USD"
    assert meta.items["v_s"]["availability"] == "in stock"
    assert meta.items["v_s"]["item_group_id"] == "p_1"
    assert sorted(merchant.inserts) == sorted(meta.updates) == ["p_2", "v_m", "v_s"]
    for network in (MC, META):
        synced = await rows(sessionmaker, store.id, network)
        assert {p: (r.dirty, r.last_error) for p, r in synced.items()} == {
            "p_1": (False, None),
            "p_2": (False, None),
            "p_3": (False, "image_link is missing or not an http(s) URL"),
        }
    assert (await states(direct, store))["meta"] == "connected"

    # A second change within the minute waits for it; then it is pushed, once.
    await post(direct, store, product("p_2", title="Cap, red", price=1500))
    for network in (MC, META):
        wait = await sync_once(sessionmaker, store.id, network, keys)
        assert wait is not None and 0 < wait <= 60
    assert merchant.inserts.count("p_2") == meta.updates.count("p_2") == 1
    await due_now(sessionmaker, store.id)
    for network in (MC, META):
        assert await sync_once(sessionmaker, store.id, network, keys) is None
    assert merchant.inputs["p_2"]["attributes"]["title"] == meta.items["p_2"]["title"] == "Cap, red"

    # Meta refuses one item: its product stays dirty with Meta's message, the other is done.
    meta.refuse["p_2"] = "The image could not be downloaded"
    await post(direct, store, product("p_1", title="Linen shirt, blue", variants=variants))
    await post(direct, store, product("p_2", title="Cap, blue", price=1500))
    await due_now(sessionmaker, store.id)
    assert await sync_once(sessionmaker, store.id, META, keys) is not None
    synced = await rows(sessionmaker, store.id, META)
    assert synced["p_2"].dirty and "could not be downloaded" in (synced["p_2"].last_error or "")
    assert not synced["p_1"].dirty and synced["p_1"].last_error is None
    assert meta.items["v_s"]["title"] == "Linen shirt, blue"

    # Merchant Center down (503): nothing lost, staff see it; then it goes through.
    merchant.down = True
    assert await sync_once(sessionmaker, store.id, MC, keys) is not None
    waiting = await rows(sessionmaker, store.id, MC)
    assert waiting["p_2"].dirty and "503" in (waiting["p_2"].last_error or "")
    assert (await states(direct, store))["merchant_center"] == "error"
    merchant.down = False
    await due_now(sessionmaker, store.id)
    assert await sync_once(sessionmaker, store.id, MC, keys) is None
    assert merchant.inputs["p_2"]["attributes"]["title"] == "Cap, blue"
    assert not (await rows(sessionmaker, store.id, MC))["p_2"].dirty
    assert (await states(direct, store))["merchant_center"] == "connected"

    # A deleted product's items are removed from both networks.
    meta.refuse.clear()
    await post(direct, store, event("product.deleted", {"product_id": "p_1"}))
    await due_now(sessionmaker, store.id)
    for network in (MC, META):
        assert await sync_once(sessionmaker, store.id, network, keys) is None
    assert sorted(merchant.deleted) == sorted(meta.deleted) == ["v_m", "v_s"]
    assert sorted(merchant.inputs) == sorted(meta.items) == ["p_2"]


async def test_a_refused_token_is_shown_on_the_connection_and_the_products_wait(
    direct: httpx.AsyncClient,
    store: StoreKeys,
    httpserver: HTTPServer,
    sessionmaker: SessionMaker,
    settings: Settings,
) -> None:
    keys = ChannelKeys(settings.channel_secret_key, local_allowed=True)
    merchant = FakeMerchant(httpserver).install()
    meta = FakeMetaCatalog(httpserver).install()
    await connect_catalogs(direct, store.auth(), httpserver.url_for("").rstrip("/"))
    merchant.token_revoked = meta.token_revoked = True
    await post(direct, store, product("p_1"))
    for network in (MC, META):
        assert await sync_once(sessionmaker, store.id, network, keys) is not None
        assert (await rows(sessionmaker, store.id, network))["p_1"].dirty
    listed = (await direct.get("/v1/channels", headers=store.auth())).json()["items"]
    errors = {c["network"]: (c["state"], c["last_error"]) for c in listed}
    assert errors["merchant_center"][0] == errors["meta"][0] == "error"
    assert "refresh_token" in errors["merchant_center"][1]
    assert "access_token" in errors["meta"][1]
    assert merchant.inputs == {} and meta.items == {}


async def test_a_meta_connection_without_a_catalog_syncs_nothing(
    direct: httpx.AsyncClient, store: StoreKeys, httpserver: HTTPServer, sessionmaker: SessionMaker
) -> None:
    FakeMetaCatalog(httpserver).install()
    body: dict[str, Any] = {k: v for k, v in META_IDS.items() if k != "catalog_id"}
    body["api_base_url"] = httpserver.url_for("").rstrip("/")
    saved = await direct.put("/v1/channels/meta", json=body, headers=store.auth())
    assert saved.status_code == 200, saved.text
    await post(direct, store, product("p_1"))
    assert await rows(sessionmaker, store.id, META) == {}
