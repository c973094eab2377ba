"""Fixtures of the workflow tests that send for real: the fake providers, and a worker that
sends through them on a task queue of its own, with its relay."""

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from config import Settings
from devstack.fake_providers import FakeProviders
from models.database import SessionMaker
from relay import Relay
from services.messaging.templates import TemplateRenderer
from tests.temporal_runs import StartedRuns
from worker import build_worker


@pytest.fixture
def providers() -> Iterator[FakeProviders]:
    fake = FakeProviders().start()
    yield fake
    fake.stop()


@pytest.fixture
async def sending(
    providers: FakeProviders,
    settings: Settings,
    sessionmaker: SessionMaker,
    temporal_env: WorkflowEnvironment,
    renderer: TemplateRenderer,
    started_runs: StartedRuns,
    fresh_outbox: None,
) -> AsyncIterator[Relay]:
    """A worker that sends through the fakes, on its own task queue, and its relay."""
    task_queue = f"sending-{uuid.uuid4().hex[:8]}"
    real = settings.model_copy(update={**providers.settings(), "task_queue": task_queue})
    async with build_worker(temporal_env.client, sessionmaker, real, renderer):
        yield Relay(sessionmaker, temporal_env.client, task_queue=task_queue, batch_size=500)
        await started_runs.end_all(temporal_env.client)
