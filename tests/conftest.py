"""Shared fixtures: one real PostgreSQL (embedded) and one time-skipping Temporal server for the
whole session; a fresh store per test, so tests never see each other's data."""

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, update
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from config import Settings
from devstack.migrate import upgrade_database
from devstack.postgres import start_postgres
from devstack.temporal import SEARCH_ATTRIBUTES, binary, free_port
from models import Event
from models.database import SessionMaker, create_engine, create_sessionmaker
from relay import Relay
from services.messaging.templates import TemplateRenderer
from temporal_payloads import data_converter
from tests.temporal_runs import StartedRuns
from worker import build_worker

OPERATOR = "test-operator-token"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="shopstar-test-"))
    postgres = start_postgres(folder / "pg")
    upgrade_database(postgres.url)
    yield postgres.url
    postgres.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        operator_token=OPERATOR,
        task_queue=f"test-{uuid.uuid4().hex[:8]}",
        storefront_base_url="https://shop.test",
        relay_poll_seconds=0.2,
        # Tests call the api far faster than a storefront would; tests/api/test_limits.py builds
        # an app of its own with the limits on.
        public_rate_limit=0,
        key_rate_limit=0,
        # Nothing listens here: the api's readiness check must see Temporal as down.
        temporal_address=f"127.0.0.1:{free_port()}",
        # Nothing listens here either: a channel saved without a fake of its own is `unchecked`,
        # and no test reaches a real ad network.
        channel_base_url_override=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="session")
async def sessionmaker(settings: Settings) -> AsyncIterator[SessionMaker]:
    engine = create_engine(settings.require_database_url())
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@dataclass
class StoreKeys:
    id: str
    secret: str
    publishable: str

    def auth(self, kind: str = "secret") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret if kind == 'secret' else self.publishable}"}


async def make_store(api: httpx.AsyncClient, name: str = "Test Store") -> StoreKeys:
    response = await api.post(
        "/v1/stores",
        json={"name": name, "currency": "USD", "timezone": "America/New_York"},
        headers={"Authorization": f"Bearer {OPERATOR}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    keys = {k["kind"]: k["key"] for k in body["keys"]}
    return StoreKeys(id=body["id"], secret=keys["secret"], publishable=keys["publishable"])


@pytest.fixture
async def store(api: httpx.AsyncClient) -> StoreKeys:
    return await make_store(api)


@pytest.fixture(scope="session")
def started_runs() -> StartedRuns:
    return StartedRuns()


async def time_skipping_env(started_runs: StartedRuns) -> WorkflowEnvironment:
    """A time-skipping test server with the engine's search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=data_converter,
        interceptors=[started_runs],
    )
    kinds = {
        "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    }
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={name: kinds[kind] for name, kind in SEARCH_ATTRIBUTES.items()},
        )
    )
    return env


@pytest.fixture(scope="session")
async def temporal_env(started_runs: StartedRuns) -> AsyncIterator[WorkflowEnvironment]:
    """One server for the api's tests; the workflow tests have one per module (their conftest)."""
    env = await time_skipping_env(started_runs)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def renderer() -> TemplateRenderer:
    """The render processes, started once: a worker per test would start its own otherwise."""
    return TemplateRenderer(processes=2)


async def clear_outbox(sessionmaker: SessionMaker) -> None:
    """The events earlier tests left undelivered are marked delivered, so that this test's relay
    starts the runs of this test's stores only. Left to it, the relay would also start other
    tests' runs on this test's worker (commissions, conversions retrying against no fake), and
    their activities and retries would hold the shared time-skipping clock."""
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Event).where(Event.delivered_at.is_(None)).values(delivered_at=func.now())
        )


@pytest.fixture
async def fresh_outbox(sessionmaker: SessionMaker) -> None:
    """`clear_outbox`, for a test whose relay delivers to a server of its own."""
    await clear_outbox(sessionmaker)


WorkerWith = Callable[..., AbstractAsyncContextManager[Worker]]


def own_queue(settings: Settings, **changes: Any) -> Settings:
    """These settings on a task queue of the test's own, with these changed."""
    return settings.model_copy(update={"task_queue": f"test-{uuid.uuid4().hex[:8]}", **changes})


@pytest.fixture
def worker_with(
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
    settings: Settings,
    renderer: TemplateRenderer,
    started_runs: StartedRuns,
) -> WorkerWith:
    """A worker on a task queue of this test's own, with these settings changed. It starts on a
    clean outbox and a server with no run left open, and ends every run when it stops
    (tests/temporal_runs.py says why)."""

    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[Worker]:
        own = own_queue(settings, **changes)
        await clear_outbox(sessionmaker)
        await started_runs.end_all(temporal_env.client)
        async with build_worker(temporal_env.client, sessionmaker, own, renderer) as worker:
            yield worker
            await started_runs.end_all(temporal_env.client)

    return start


@pytest.fixture
async def worker(worker_with: WorkerWith) -> AsyncIterator[Worker]:
    async with worker_with() as worker:
        yield worker


@pytest.fixture
def relay(temporal_env: WorkflowEnvironment, sessionmaker: SessionMaker, worker: Worker) -> Relay:
    """A relay onto this test's task queue: every run it starts has a worker."""
    return Relay(sessionmaker, temporal_env.client, task_queue=worker.task_queue, batch_size=500)


def event(
    kind: str, data: dict[str, Any], *, event_id: str | None = None, at: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:12]}",
        "type": kind,
        "occurred_at": at or datetime.now(UTC).isoformat(),
        "data": data,
    }
