"""The abandoned-cart run end to end: events in through the API, the relay, the workflow on a
time-skipping Temporal server, the gate and the message log on the real database."""

import asyncio
from datetime import timedelta

import httpx
from pytest import approx
from sqlalchemy import update
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config import Settings
from models import Event
from models.database import SessionMaker
from relay import Relay
from services.messaging.templates import TemplateRenderer
from tests.conftest import StoreKeys, clear_outbox, own_queue
from tests.temporal_runs import StartedRuns
from tests.workflows.journey import (
    DAY,
    HOUR,
    cart,
    deliver,
    enable_flow,
    finish,
    order,
    post,
    product,
    record_history,
    shopper,
    timer_durations,
    undelivered,
)
from worker import build_worker


async def messages(
    api: httpx.AsyncClient, store: StoreKeys, **params: str
) -> list[dict[str, object]]:
    response = await api.get("/v1/messages", params=params, headers=store.auth())
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda m: m["step"])


async def test_abandoned_cart_runs_every_step_at_its_delay(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    assert await undelivered(sessionmaker, store.id) == 0
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "sent"
    await record_history(handle, "abandoned_cart_sent")
    sent = await messages(api, store, customer_id="c_1")
    assert [(m["step"], m["channel"], m["status"]) for m in sent] == [
        (0, "email", "sent"),
        (1, "sms", "sent"),
    ]
    # The second timer runs from when the first step was due: a day less the time the send took.
    assert await timer_durations(handle) == [("started", HOUR), ("started", approx(DAY, abs=5))]
    description = await handle.describe()
    attributes = description.typed_search_attributes
    named = {p.key.name: p.value for p in attributes if p.key.name != "TemporalChangeVersion"}
    assert named == {
        "StoreId": store.id,
        "CustomerId": "c_1",
        "CartId": "k_1",
        "FlowKind": "abandoned_cart",
        "FlowOutcome": "sent",
        "FlowStep": 1,
    }


async def test_order_between_steps_cancels_the_rest(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await temporal_env.sleep(HOUR + 60)
    for _ in range(100):  # the first step runs on the worker in real time
        if await messages(api, store):
            break
        await asyncio.sleep(0.1)
    await post(api, store, order())
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "converted"
    await record_history(handle, "abandoned_cart_converted")
    sent = await messages(api, store)
    assert [(m["step"], m["status"]) for m in sent] == [(0, "sent")]
    attributes = {p.key.name: p.value for p in (await handle.describe()).typed_search_attributes}
    assert (attributes["FlowOutcome"], attributes["OrderId"]) == ("converted", "o_1")


async def test_order_for_the_customer_cancels_without_cart_id(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await post(api, store, order(cart_id=None))
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "converted"
    assert await messages(api, store) == []


async def test_cart_activity_restarts_the_inactivity_window(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await temporal_env.sleep(HOUR / 2)
    await post(api, store, cart(quantity=2))
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "sent"
    timers = await timer_durations(handle)
    await record_history(handle, "abandoned_cart_restarted_window")
    assert timers[0] == ("started", HOUR)
    assert timers[1] == ("canceled", 0)
    # After the second activity a full hour again, not what was left of the first one.
    assert timers[2][0] == "started" and timers[2][1] >= HOUR - 1


async def test_cleared_cart_ends_the_run(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await post(api, store, cart(quantity=0))
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "cancelled"
    assert await messages(api, store) == []


async def test_a_signal_delivered_twice_changes_nothing(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    # At-least-once delivery: the relay retries after a crash and sends the same event again.
    history = [e async for e in handle.fetch_history_events()]
    first_signal = next(
        e for e in history if e.HasField("workflow_execution_signaled_event_attributes")
    )
    payload = first_signal.workflow_execution_signaled_event_attributes.input
    await temporal_env.sleep(HOUR / 2)
    await handle.signal(
        "cart_updated", *(await temporal_env.client.data_converter.decode(payload.payloads))
    )
    assert await finish(temporal_env, handle) == "sent"
    assert await timer_durations(handle) == [("started", HOUR), ("started", approx(DAY, abs=5))]


async def test_product_removed_suppresses_with_reason(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await post(api, store, product(available=False))
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "suppressed:product_unavailable"
    rows = await messages(api, store)
    assert [(m["status"], m["suppression_reason"]) for m in rows] == [
        ("suppressed", "product_unavailable"),
        ("suppressed", "product_unavailable"),
    ]


async def test_no_consent_and_no_contact_are_recorded(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    no_phone = shopper()
    no_phone["data"] = {
        "customer_id": "c_1",
        "email": "ana@example.com",
        "consent": {"email": False},
    }
    await post(api, store, no_phone, product(), cart())
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "suppressed:no_contact"
    rows = await messages(api, store)
    assert [(m["channel"], m["suppression_reason"]) for m in rows] == [
        ("email", "no_consent"),
        ("sms", "no_contact"),
    ]


async def test_disabled_flow_starts_no_run(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    try:
        await handle.describe()
        raise AssertionError("a run was started for a disabled flow")
    except Exception as exc:  # RPCError NOT_FOUND
        assert "not found" in str(exc).lower()
    _ = WorkflowExecutionStatus


async def test_a_cart_emptied_before_its_step_is_not_messaged(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    """The gate reads the cart as it is at send time: emptied (the clearing event stored but not
    yet relayed to the run), the step is suppressed with `cart_empty` and the run ends."""
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await post(api, store, cart(quantity=0))  # stored, not relayed: only the gate can see it
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "cancelled"
    (step,) = await messages(api, store, customer_id="c_1")
    assert (step["step"], step["status"], step["suppression_reason"]) == (
        0,
        "suppressed",
        "cart_empty",
    )
    await deliver(relay)  # leave nothing undelivered for the next test


async def test_the_wait_counts_from_when_the_api_accepted_the_cart(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    """The relay was down for 50 minutes: the message still goes an hour after the cart."""
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Event)
            .where(Event.store_id == store.id)
            .values(received_at=Event.received_at - timedelta(minutes=50))
        )
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "sent"
    timers = await timer_durations(handle)
    assert timers[0] == ("started", HOUR - 50 * 60)


async def test_a_worker_that_gets_to_the_run_late_sends_at_the_carts_time(
    api: httpx.AsyncClient,
    store: StoreKeys,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
    settings: Settings,
    renderer: TemplateRenderer,
    started_runs: StartedRuns,
) -> None:
    """The run waited for a worker (all of them busy with other runs, or none up): its first
    step is still due an hour after the cart, not an hour after a worker got to it. The server
    cannot skip time while the run's first task waits, so it waits 3 real seconds."""
    await clear_outbox(sessionmaker)
    own = own_queue(settings)
    relay = Relay(sessionmaker, temporal_env.client, task_queue=own.task_queue, batch_size=500)
    await enable_flow(api, store)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    await asyncio.sleep(3)  # no worker polls the run's queue yet
    try:
        async with build_worker(temporal_env.client, sessionmaker, own, renderer):
            assert await finish(temporal_env, handle) == "sent"
        timers = await timer_durations(handle)
        assert timers[0][0] == "started" and HOUR - 10 < timers[0][1] <= HOUR - 3
        sent = await messages(api, store, customer_id="c_1")
        assert [(m["step"], m["status"]) for m in sent] == [(0, "sent"), (1, "sent")]
    finally:
        await started_runs.end_all(temporal_env.client)
