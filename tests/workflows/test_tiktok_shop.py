"""A TikTok Shop order ends the buyer's recovery run as a storefront order does: the signed
webhook, the order read from a fake Partner API, the events through the relay to the run."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from catalog_outbox import CatalogOutbox
from config import Settings
from models import CatalogSyncItem
from models.database import SessionMaker
from relay import Relay
from services.messaging.templates import TemplateRenderer
from tests.conftest import StoreKeys
from tests.temporal_runs import StartedRuns
from tests.tiktok_fake import FakeTikTok, connect, signed_webhook, status_change, tiktok_order
from tests.workflows.journey import cart, deliver, enable_flow, finish, post, product, shopper
from worker import build_worker


@pytest.fixture
async def direct(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"channel_base_url_override": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_a_tiktok_order_cancels_the_buyers_abandoned_cart_run(
    direct: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    httpserver: HTTPServer,
) -> None:
    fake = FakeTikTok(httpserver).install()
    await connect(direct, store.auth(), fake)
    await enable_flow(direct, store)
    await post(direct, store, shopper(), product(), cart())
    await deliver(relay)
    # The same shopper buys on TikTok: TikTok gives the buyer's email.
    fake.orders["5764"] = tiktok_order("5764", "AWAITING_SHIPMENT", buyer_email="Ana@Example.com")
    response = await direct.post(
        f"/v1/webhooks/tiktok-shop/{store.id}",
        **signed_webhook(status_change("5764", "AWAITING_SHIPMENT")),
    )
    assert response.json() == {"accepted": 1, "duplicates": 0}
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "converted"
    attributes = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
    assert attributes["OrderId"] == "tts_5764"
    messages = await direct.get("/v1/messages", headers=store.auth())
    assert messages.json()["items"] == []


async def test_a_product_change_is_pushed_by_the_stores_sync_run(
    direct: httpx.AsyncClient,
    store: StoreKeys,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
    settings: Settings,
    renderer: TemplateRenderer,
    started_runs: StartedRuns,
    httpserver: HTTPServer,
) -> None:
    fake = FakeTikTok(httpserver).install()
    await connect(direct, store.auth(), fake)
    own = settings.model_copy(
        update={"task_queue": f"sync-{uuid.uuid4().hex[:8]}", "channel_base_url_override": None}
    )
    async with build_worker(temporal_env.client, sessionmaker, own, renderer):
        outbox = CatalogOutbox(
            sessionmaker, temporal_env.client, task_queue=own.task_queue, stores=[store.id]
        )
        await post(direct, store, product())
        assert await outbox.dispatch_once() == 1
        assert await outbox.dispatch_once() == 0  # woken once per change
        handle = temporal_env.client.get_workflow_handle(f"catalog-sync:{store.id}:tiktok_shop")
        await finish(temporal_env, handle)  # nothing left dirty: the run ends
        await started_runs.end_all(temporal_env.client)
    async with sessionmaker() as session:
        row = await session.get(CatalogSyncItem, (store.id, "tiktok_shop", "p_1"))
    assert row is not None and not row.dirty and row.remote_id is not None
    assert [p["title"] for p in fake.products.values()] == ["Linen shirt"]
