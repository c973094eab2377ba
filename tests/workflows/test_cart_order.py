"""A late, older cart update: the projection and the run agree on which state is the newest
(the later `occurred_at`, then the later accepted), whether it comes in the same batch or later."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from models import Cart
from models.database import SessionMaker
from relay import Relay
from tests.conftest import StoreKeys
from tests.workflows.journey import cart, deliver, enable_flow, post, product, shopper

NOW = datetime.now(UTC)
NEWER, OLDER = NOW.isoformat(), (NOW - timedelta(minutes=5)).isoformat()


async def signalled_counts(env: WorkflowEnvironment, workflow_id: str) -> list[int]:
    """The item counts the run was told, in the order it was told."""
    handle = env.client.get_workflow_handle(workflow_id)
    counts: list[int] = []
    async for e in handle.fetch_history_events():
        if e.HasField("workflow_execution_signaled_event_attributes"):
            payloads = e.workflow_execution_signaled_event_attributes.input.payloads
            (signal,) = await env.client.data_converter.decode(payloads)
            counts.append(signal["item_count"])
    return counts


async def projected_quantity(sessionmaker: SessionMaker, store_id: str, cart_id: str) -> Any:
    async with sessionmaker() as session:
        row = await session.get(Cart, (store_id, cart_id))
        assert row is not None
        return row.items[0]["quantity"]


async def test_an_older_update_in_the_same_batch_is_not_the_newest(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    await enable_flow(api, store)
    await post(
        api,
        store,
        shopper(),
        product(),
        cart(quantity=2, at=NEWER),
        cart(quantity=1, at=OLDER),  # accepted later, occurred earlier
    )
    await deliver(relay)
    assert await projected_quantity(sessionmaker, store.id, "k_1") == 2
    assert await signalled_counts(temporal_env, f"cart:{store.id}:k_1") == [2]


async def test_an_older_update_in_a_later_batch_is_not_signalled(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart(quantity=2, at=NEWER))
    await deliver(relay)
    await post(api, store, cart(quantity=1, at=OLDER))
    await deliver(relay)
    assert await projected_quantity(sessionmaker, store.id, "k_1") == 2
    assert await signalled_counts(temporal_env, f"cart:{store.id}:k_1") == [2]
    # A genuinely newer update still reaches the run.
    await post(api, store, cart(quantity=3, at=(NOW + timedelta(minutes=1)).isoformat()))
    await deliver(relay)
    assert await projected_quantity(sessionmaker, store.id, "k_1") == 3
    assert await signalled_counts(temporal_env, f"cart:{store.id}:k_1") == [2, 3]
