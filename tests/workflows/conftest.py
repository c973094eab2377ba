"""Fixtures of the workflow tests that send for real: the fake providers, and a worker that
sends through them on a task queue of its own, with its relay."""

from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from devstack.fake_providers import FakeProviders
from models.database import SessionMaker
from relay import Relay
from tests.conftest import WorkerWith, time_skipping_env
from tests.temporal_runs import StartedRuns


@pytest.fixture(scope="module")
async def temporal_env(started_runs: StartedRuns) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for each module. The shared one stalled now and then: a run's
    timer stopped firing (time no longer skipped) after the previous module's last test, and
    every workflow test after it failed or hung. A module's own server keeps that to the module.
    The cause, left open: something in the server still held time (its lock) after the test's
    worker stopped and every run was terminated."""
    env = await time_skipping_env(started_runs)
    yield env
    await env.shutdown()


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
