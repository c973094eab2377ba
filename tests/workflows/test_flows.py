"""Browse reminder and return purchase, quiet hours, erasure and the frequency rules, end to end
through the API, the relay and the workflows on the time-skipping server."""

from datetime import UTC, timedelta

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models import Event, Message
from models.database import SessionMaker
from relay import Relay
from tests.conftest import StoreKeys, event
from tests.workflows.journey import (
    BROWSE_FLOW,
    HOUR,
    RETURN_FLOW,
    TWO_STEP_FLOW,
    cart,
    deliver,
    enable_flow,
    finish,
    messages,
    order,
    post,
    product,
    put_flow,
    record_history,
    shopper,
    timer_durations,
    viewed,
    with_code_rule,
)


async def bodies(sessionmaker: SessionMaker, store_id: str) -> list[tuple[str | None, str | None]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Message.subject, Message.body)
            .where(Message.store_id == store_id, Message.status == "sent")
            .order_by(Message.created_at)
        )
        return [(r.subject, r.body) for r in rows]


async def test_browse_reminder_names_the_last_viewed_product_after_the_wait(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    await put_flow(api, store, "browse_reminder", BROWSE_FLOW)
    other = event(
        "product.upserted",
        {
            "product_id": "p_2",
            "title": "Wool scarf",
            "price": 2500,
            "currency": "USD",
            "category_ids": [],
            "available": True,
            "url": "https://shop.test/scarf",
        },
    )
    await post(api, store, shopper(), product(), other, viewed("p_1"))
    await deliver(relay)
    await temporal_env.sleep(600)
    await post(api, store, viewed("p_2"))
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"browse:{store.id}:c_1")
    assert await finish(temporal_env, handle) == "sent"
    await record_history(handle, "browse_reminder_sent")
    timers = await timer_durations(handle)
    assert timers[0] == ("started", 1800) and timers[1] == ("canceled", 0)
    assert timers[2][1] >= 1799  # a full wait after the newest view
    ((subject, body),) = await bodies(sessionmaker, store.id)
    assert subject == "Still thinking about Wool scarf?"
    assert body is not None and body.startswith("https://shop.test/scarf?utm_source=shopstar")
    assert "utm_campaign=browse_reminder" in body and "utm_medium=email" in body


async def test_add_to_cart_cancels_the_browse_reminder(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await put_flow(api, store, "browse_reminder", BROWSE_FLOW)
    await post(api, store, shopper(), product(), viewed())
    await deliver(relay)
    await post(api, store, cart())
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"browse:{store.id}:c_1")
    assert await finish(temporal_env, handle) == "cancelled"
    assert await messages(api, store, flow="browse_reminder") == []


async def test_browse_reminder_for_a_removed_product_is_suppressed(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await put_flow(api, store, "browse_reminder", BROWSE_FLOW)
    await post(api, store, shopper(), product(), viewed())
    await deliver(relay)
    await post(api, store, event("product.deleted", {"product_id": "p_1"}))
    handle = temporal_env.client.get_workflow_handle(f"browse:{store.id}:c_1")
    assert await finish(temporal_env, handle) == "suppressed:product_unavailable"
    rows = await messages(api, store)
    assert [(m["flow"], m["status"], m["suppression_reason"]) for m in rows] == [
        ("browse_reminder", "suppressed", "product_unavailable")
    ]


async def test_return_purchase_sends_after_the_order_and_not_for_a_cancelled_one(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    await put_flow(api, store, "return_purchase", await with_code_rule(api, store, RETURN_FLOW))
    await post(
        api, store, shopper(), product(), order("o_1", cart_id=None), order("o_2", cart_id=None)
    )
    await deliver(relay)
    await post(api, store, event("order.cancelled", {"order_id": "o_2"}))
    kept = temporal_env.client.get_workflow_handle(f"return:{store.id}:o_1")
    cancelled = temporal_env.client.get_workflow_handle(f"return:{store.id}:o_2")
    assert await finish(temporal_env, kept) == "sent"
    await record_history(kept, "return_purchase_sent")
    assert await finish(temporal_env, cancelled) == "suppressed:order_cancelled"
    assert await timer_durations(kept) == [("started", 86400)]
    ((_, body),) = await bodies(sessionmaker, store.id)
    assert body is not None and body.startswith("Thanks for order o_1! https://shop.test?")


async def test_quiet_hours_hold_the_message_until_the_window_opens(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    # A quiet window around the moment the step falls due, on the test server's clock.
    due = (await temporal_env.get_current_time()).astimezone(UTC) + timedelta(seconds=HOUR)
    start, end = (due - timedelta(hours=1)), (due + timedelta(hours=3))
    flow = {
        **TWO_STEP_FLOW,
        "steps": TWO_STEP_FLOW["steps"][:1],
        "quiet_hours": {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")},
    }
    await enable_flow(api, store, flow)
    customer = shopper()
    customer["data"]["timezone"] = "UTC"
    await post(api, store, customer, product(), cart())
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "sent"
    await record_history(handle, "abandoned_cart_quiet_hours")
    timers = await timer_durations(handle)
    assert timers[0] == ("started", HOUR)
    # Held (not dropped) for about the three hours left of the quiet window.
    assert 3 * HOUR - 120 <= timers[1][1] <= 3 * HOUR
    assert [m["status"] for m in await messages(api, store)] == ["sent"]


async def test_erasure_cancels_runs_and_removes_personal_data(
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
    await temporal_env.sleep(HOUR + 60)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    for _ in range(100):
        if await messages(api, store):
            break
    await post(api, store, event("customer.erased", {"customer_id": "c_1"}))
    await deliver(relay)
    assert await finish(temporal_env, handle) == "suppressed:erased"
    rows = await messages(api, store)
    assert [(m["step"], m["status"], m["customer_id"]) for m in rows] == [(0, "sent", None)]
    assert await bodies(sessionmaker, store.id) == [(None, None)]
    async with sessionmaker() as session:
        stored = (
            await session.scalars(
                select(Event.data).where(
                    Event.store_id == store.id, Event.type == "customer.upserted"
                )
            )
        ).all()
    assert stored == [{"customer_id": "c_1", "consent": {"email": True, "sms": True}}]


async def test_recent_similar_message_and_recent_order_suppress(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    capped = {
        **TWO_STEP_FLOW,
        "steps": TWO_STEP_FLOW["steps"][:1],
        "suppression": {
            "similar_message_window_seconds": 86400,
            "recent_order_window_seconds": 86400,
        },
    }
    await enable_flow(api, store, capped)
    await post(api, store, shopper(), shopper("c_2"), product(), cart("k_1"))
    await deliver(relay)
    first = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, first) == "sent"
    # Another cart of the same customer: the similar message went out moments ago.
    await post(api, store, cart("k_2"))
    # c_2 ordered something else a moment ago, then abandons a cart.
    await post(
        api, store, order("o_9", cart_id=None, customer_id="c_2"), cart("k_3", customer_id="c_2")
    )
    await deliver(relay)
    second = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_2")
    third = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_3")
    assert await finish(temporal_env, second) == "suppressed:recent_similar_message"
    assert await finish(temporal_env, third) == "suppressed:recent_order"
