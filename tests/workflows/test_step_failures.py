"""A step whose gate raises what would raise again fails once, with the reason for staff, and
is not retried every few minutes for ever."""

import httpx
from sqlalchemy import update
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models import Customer
from models.database import SessionMaker
from relay import Relay
from tests.conftest import StoreKeys
from tests.workflows.journey import (
    TWO_STEP_FLOW,
    cart,
    deliver,
    enable_flow,
    finish,
    messages,
    post,
    product,
    shopper,
)


async def test_a_gate_error_fails_the_step_once_with_its_reason(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    flow = {**TWO_STEP_FLOW, "quiet_hours": {"start": "23:59", "end": "00:00"}}
    await enable_flow(api, store, flow)
    await post(api, store, shopper(), product(), cart())
    # A time zone stored before time zones were checked: the gate cannot compute quiet hours.
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Customer)
            .where(Customer.store_id == store.id, Customer.customer_id == "c_1")
            .values(timezone="Nowhere/Atlantis")
        )
    await deliver(relay)
    run = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, run) == "suppressed:failed"
    rows = await messages(api, store)
    assert [(m["step"], m["status"], m["failure_code"]) for m in rows] == [
        (0, "failed", "step_error"),
        (1, "failed", "step_error"),
    ]
    assert "Nowhere/Atlantis" in rows[0]["failure_reason"]
