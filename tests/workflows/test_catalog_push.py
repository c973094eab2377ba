"""A product change wakes one sync run per network (`catalog-sync:{store}:{network}`) that
pushes it to Merchant Center and Meta once, then ends."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from catalog_outbox import CatalogOutbox
from config import Settings
from models.database import SessionMaker
from services.channels import catalog_push
from services.messaging.templates import TemplateRenderer
from tests.api.test_catalog_push import product
from tests.catalog_fakes import FakeMerchant, FakeMetaCatalog, connect_catalogs
from tests.conftest import StoreKeys
from tests.temporal_runs import StartedRuns
from tests.workflows.journey import finish, post
from worker import build_worker


@pytest.fixture
async def direct(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"channel_base_url_override": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_a_product_change_is_pushed_to_each_network_by_its_own_run(
    direct: httpx.AsyncClient,
    store: StoreKeys,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
    settings: Settings,
    renderer: TemplateRenderer,
    started_runs: StartedRuns,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog_push, "META_POLL_SECONDS", 0.0)
    merchant = FakeMerchant(httpserver).install()
    meta = FakeMetaCatalog(httpserver).install()
    await connect_catalogs(direct, store.auth(), httpserver.url_for("").rstrip("/"))
    own = settings.model_copy(
        update={"task_queue": f"sync-{uuid.uuid4().hex[:8]}", "channel_base_url_override": None}
    )
    async with build_worker(temporal_env.client, sessionmaker, own, renderer):
        outbox = CatalogOutbox(
            sessionmaker, temporal_env.client, task_queue=own.task_queue, stores=[store.id]
        )
        await post(direct, store, product("p_1"))
        assert await outbox.dispatch_once() == 2
        assert await outbox.dispatch_once() == 0
        for network in ("merchant_center", "meta"):
            handle = temporal_env.client.get_workflow_handle(f"catalog-sync:{store.id}:{network}")
            await finish(temporal_env, handle)
        await started_runs.end_all(temporal_env.client)
    assert merchant.inserts == meta.updates == ["p_1"]
