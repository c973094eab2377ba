"""Runs that live long: continue-as-new keeps the history short without losing state, and a run
keeps the flow version it started with when staff edit the flow."""

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config import Settings
from flow_contract import CartActivity, FlowConfig, FlowPlan
from models import FlowVersion
from models.database import SessionMaker
from relay import Relay
from tests.conftest import StoreKeys
from tests.workflows.journey import (
    TWO_STEP_FLOW,
    cart,
    deliver,
    enable_flow,
    finish,
    post,
    product,
    shopper,
)
from workflows.abandoned_cart import AbandonedCartWorkflow
from workflows.types import AbandonedCartInput


async def test_a_busy_cart_continues_as_new_and_keeps_its_state(
    api: httpx.AsyncClient,
    store: StoreKeys,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    sessionmaker: SessionMaker,
) -> None:
    await post(api, store, shopper(), product(), cart())
    workflow_id = f"cart:{store.id}:k_1"
    flow = FlowConfig.model_validate(TWO_STEP_FLOW)
    async with sessionmaker.begin() as session:  # the version the run pins (the relay is off)
        session.add(
            FlowVersion(store_id=store.id, kind="abandoned_cart", version=1, config=TWO_STEP_FLOW)
        )
    inp = AbandonedCartInput(
        store_id=store.id,
        cart_id="k_1",
        customer_id="c_1",
        flow_version=1,
        plan=FlowPlan.of(flow),
        signals_per_run=3,
    )
    handle = await temporal_env.client.start_workflow(
        AbandonedCartWorkflow.run, inp, id=workflow_id, task_queue=worker.task_queue
    )
    for seq in range(1, 8):
        await handle.signal(
            AbandonedCartWorkflow.cart_updated, CartActivity(f"e{seq}", seq, 1, "c_1")
        )
    # A duplicate of an event seen before the continue-as-new is still recognised.
    await handle.signal(AbandonedCartWorkflow.cart_updated, CartActivity("e7", 7, 1, "c_1"))
    latest = temporal_env.client.get_workflow_handle(workflow_id)
    assert await finish(temporal_env, latest) == "sent"
    first_run = temporal_env.client.get_workflow_handle(
        workflow_id, run_id=handle.first_execution_run_id
    )
    kinds = [e.event_type async for e in first_run.fetch_history_events()]
    assert kinds[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    response = await api.get("/v1/messages", headers=store.auth())
    steps = sorted((m["step"], m["status"]) for m in response.json()["items"])
    assert steps == [(0, "sent"), (1, "sent")]


async def test_a_run_keeps_its_flow_version_when_the_flow_is_edited(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    one_step = {**TWO_STEP_FLOW, "steps": TWO_STEP_FLOW["steps"][:1], "trigger_delay_seconds": 60}
    await enable_flow(api, store, one_step)
    await post(api, store, cart("k_2"))
    await deliver(relay)
    old = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    new = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_2")
    assert await finish(temporal_env, old) == "sent"
    # k_2 is suppressed as a similar message only if the window says so; here it is 0.
    assert await finish(temporal_env, new) == "sent"
    response = await api.get("/v1/messages", params={"limit": 500}, headers=store.auth())
    steps = sorted(
        (m["workflow_id"].rsplit(":", 1)[1], m["step"]) for m in response.json()["items"]
    )
    assert steps == [("k_1", 0), ("k_1", 1), ("k_2", 0)]


async def test_messages_are_listed_newest_first_with_a_cursor(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), *[cart(f"k_{i}") for i in range(3)])
    await deliver(relay)
    for i in range(3):
        handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_{i}")
        await finish(temporal_env, handle)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/messages", params=params, headers=store.auth())).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    sent_only = await api.get(
        "/v1/messages", params={"status": "sent", "flow": "abandoned_cart"}, headers=store.auth()
    )
    assert len(sent_only.json()["items"]) == 6
    bad = await api.get("/v1/messages", params={"cursor": "garbage!"}, headers=store.auth())
    assert bad.status_code == 422
    too_many = await api.get("/v1/messages", params={"limit": 501}, headers=store.auth())
    assert too_many.status_code == 422
