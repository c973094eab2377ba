"""The weekly affiliate payout schedule on a real Temporal dev server (the time-skipping test
server has no Schedules): an automatic affiliate gets its store's schedule created by the
worker's scheduler, and the run the schedule starts pays the approved commissions out."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from config import Settings
from devstack.temporal import TemporalDevServer, free_port
from models.database import SessionMaker
from payout_schedules import PayoutScheduler, schedule_id
from services.messaging.templates import TemplateRenderer
from tests.api.affiliate_shop import approve_now, new_affiliate, placed, post
from tests.conftest import StoreKeys
from worker import build_worker, connect_temporal


@pytest.fixture
async def dev_server(tmp_path: Path) -> AsyncIterator[TemporalDevServer]:
    server = TemporalDevServer(
        port=free_port(), ui_port=None, db_file=None, log_file=tmp_path / "t.log"
    )
    server.start()
    await server.wait_ready()
    yield server
    server.stop()


async def payouts(api: httpx.AsyncClient, store: StoreKeys, affiliate_id: str) -> list[Any]:
    response = await api.get(
        "/v1/payouts", params={"affiliate_id": affiliate_id}, headers=store.auth()
    )
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def test_the_weekly_schedule_is_created_and_its_run_pays_out(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    settings: Settings,
    renderer: TemplateRenderer,
    dev_server: TemporalDevServer,
) -> None:
    own = settings.model_copy(
        update={"temporal_address": dev_server.address, "task_queue": f"pay-{uuid.uuid4().hex}"}
    )
    client = await connect_temporal(own)
    ada = await new_affiliate(api, store, payout={"mode": "automatic", "minimum": 500})
    await post(api, store, placed("o_1", 10_000, attribution={"affiliate_id": ada["id"]}))
    await approve_now(sessionmaker, store, "o_1")  # what the commission run does after its hold

    scheduler = PayoutScheduler(sessionmaker, client, task_queue=own.task_queue, stores=[store.id])
    assert await scheduler.dispatch_once() == 1
    assert await scheduler.dispatch_once() == 0  # created once; asked again only when it changes
    handle = client.get_schedule_handle(schedule_id(store.id))
    described = await handle.describe()
    assert [i.every for i in described.schedule.spec.intervals] == [timedelta(days=7)]

    async with build_worker(client, sessionmaker, own, renderer):
        await handle.trigger()  # this week's round, now
        for _ in range(600):
            if await payouts(api, store, ada["id"]):
                break
            await asyncio.sleep(0.1)
    await handle.delete()
    (payout,) = await payouts(api, store, ada["id"])
    assert (payout["amount"], payout["currency"], payout["status"]) == (1000, "USD", "pending")
