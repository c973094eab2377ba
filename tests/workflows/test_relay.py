"""The relay against a real Temporal dev server: events accepted while Temporal is down are
delivered, in order per cart, once it is back; NOTIFY wakes a running relay."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import Client

from devstack.temporal import TemporalDevServer, restartable_port
from models import Event
from models.database import SessionMaker
from relay import Relay
from temporal_payloads import data_converter
from tests.conftest import StoreKeys
from tests.workflows.journey import cart, deliver, enable_flow, post, product, shopper, undelivered

# A relay here delivers this test's events only (tests/conftest.py `fresh_outbox`).
pytestmark = pytest.mark.usefixtures("fresh_outbox")


@pytest.fixture
async def dev_server(tmp_path: Path) -> AsyncIterator[TemporalDevServer]:
    server = TemporalDevServer(
        port=restartable_port(),  # it restarts on it: see restartable_port
        ui_port=None,
        db_file=tmp_path / "temporal.db",
        log_file=tmp_path / "t.log",
    )
    server.start()
    await server.wait_ready()
    yield server
    server.stop()


async def signalled_seqs(client: Client, workflow_id: str) -> list[int]:
    handle = client.get_workflow_handle(workflow_id)
    seqs = []
    async for e in handle.fetch_history_events():
        if e.HasField("workflow_execution_signaled_event_attributes"):
            payloads = e.workflow_execution_signaled_event_attributes.input.payloads
            (signal,) = await client.data_converter.decode(payloads)
            seqs.append(signal["seq"])
    return seqs


async def test_events_accepted_while_temporal_is_down_are_delivered_after_restart(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    dev_server: TemporalDevServer,
) -> None:
    client = await Client.connect(dev_server.address, data_converter=data_converter)
    relay = Relay(sessionmaker, client, task_queue="outage-test")
    await enable_flow(api, store)
    await post(api, store, shopper(), product())
    await deliver(relay)
    dev_server.stop()
    # The platform keeps sending: every batch is accepted and stored.
    await post(api, store, cart(quantity=1))
    await post(api, store, cart(quantity=2))
    await post(api, store, cart("k_2", quantity=1))
    with pytest.raises(Exception):  # noqa: B017 - any failure to reach Temporal
        await relay.deliver_batch()
    assert await undelivered(sessionmaker, store.id) == 3
    dev_server.start()
    await dev_server.wait_ready()
    await deliver(relay)
    assert await undelivered(sessionmaker, store.id) == 0
    # The two updates of k_1 were coalesced into the newest one; k_2 has its own run.
    async with sessionmaker() as session:
        seqs = (
            await session.scalars(
                select(Event.seq).where(Event.store_id == store.id, Event.type == "cart.updated")
            )
        ).all()
    assert await signalled_seqs(client, f"cart:{store.id}:k_1") == [sorted(seqs)[1]]
    assert await signalled_seqs(client, f"cart:{store.id}:k_2") == [sorted(seqs)[2]]


async def test_a_running_relay_is_woken_by_new_events(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    dev_server: TemporalDevServer,
    database_url: str,
) -> None:
    client = await Client.connect(dev_server.address, data_converter=data_converter)
    relay = Relay(
        sessionmaker,
        client,
        task_queue="notify-test",
        poll_seconds=3600,  # so only NOTIFY can wake it
        listen_url=database_url.replace("+psycopg", ""),
    )
    await enable_flow(api, store)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.listening.wait(), 30)
        await post(api, store, shopper(), product(), cart())
        for _ in range(200):
            if await undelivered(sessionmaker, store.id) == 0:
                break
            await asyncio.sleep(0.05)
        assert await undelivered(sessionmaker, store.id) == 0
        description = await client.get_workflow_handle(f"cart:{store.id}:k_1").describe()
        assert description.workflow_type == "AbandonedCartWorkflow"
    finally:
        task.cancel()
