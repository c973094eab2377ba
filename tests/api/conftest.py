"""The real app on a real port, shared by the fuzz run and the isolation test."""

from collections.abc import Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from config import Settings
from tests.api.fuzz_server import LiveApi, seed, serve


@pytest.fixture(scope="session")
def live_url(settings: Settings, temporal_env: WorkflowEnvironment) -> Iterator[str]:
    # With Temporal up, /readyz answers 200; its 503 is a documented answer, not a crash.
    target = temporal_env.client.service_client.config.target_host
    with serve(settings.model_copy(update={"temporal_address": target})) as url:
        yield url


@pytest.fixture(scope="session")
def live_api(live_url: str, settings: Settings) -> LiveApi:
    """Store A, with one resource of each kind."""
    return seed(live_url, settings)
