"""Fixtures of the workflow tests that send for real: the fake providers, and a worker that
sends through them on a task queue of its own, with its relay."""

from collections.abc import AsyncIterator, Iterator

import pytest

from devstack.fake_providers import FakeProviders
from models.database import SessionMaker
from relay import Relay
from tests.conftest import WorkerWith


@pytest.fixture
def providers() -> Iterator[FakeProviders]:
    fake = FakeProviders().start()
    yield fake
    fake.stop()


@pytest.fixture
async def sending(
    providers: FakeProviders, sessionmaker: SessionMaker, worker_with: WorkerWith
) -> AsyncIterator[Relay]:
    """A worker that sends through the fakes, on its own task queue, and its relay."""
    async with worker_with(**providers.settings()) as worker:
        yield Relay(sessionmaker, worker.client, task_queue=worker.task_queue, batch_size=500)
