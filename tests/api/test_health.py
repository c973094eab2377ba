"""Readiness: one Temporal client for every probe, and a log line that says what is down."""

import logging
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from config import Settings


async def test_readiness_probes_share_one_temporal_client(
    settings: Settings, temporal_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    connects = []
    real_connect = Client.connect

    async def counted(*args: Any, **kwargs: Any) -> Client:
        connects.append(args)
        return await real_connect(*args, **kwargs)

    monkeypatch.setattr(Client, "connect", counted)
    address = temporal_env.client.service_client.config.target_host
    app = create_app(settings.model_copy(update={"temporal_address": address}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            statuses = [(await client.get("/readyz")).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert len(connects) == 1


async def test_not_ready_says_why_in_the_log(
    api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="shopstar.api.health"):
        ready = await api.get("/readyz")  # the test app's Temporal address has no server

    assert ready.status_code == 503
    assert [r.getMessage() for r in caplog.records] == ["not ready: Temporal is unreachable"]
    assert caplog.records[0].__dict__["error"]
