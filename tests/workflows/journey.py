"""Steps of a shopper's journey, as the platform would send them, for the workflow tests."""

import os
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from models import Event
from models.database import SessionMaker
from relay import Relay
from tests.conftest import StoreKeys, event
from tests.temporal_runs import result_of

HISTORIES = Path(__file__).parent / "histories"
HOUR = 3600
DAY = 86400

TWO_STEP_FLOW: dict[str, Any] = {
    "enabled": True,
    "trigger_delay_seconds": HOUR,
    "steps": [
        {
            "delay_seconds": 0,
            "channel": "email",
            "template": {
                "subject": "Your cart",
                "body": "Hi {{ customer.first_name }}, {{ link }}",
            },
        },
        {"delay_seconds": DAY, "channel": "sms", "template": {"body": "Still there? {{ link }}"}},
    ],
    "suppression": {"similar_message_window_seconds": 0, "recent_order_window_seconds": 0},
}


async def post(api: httpx.AsyncClient, store: StoreKeys, *events: dict[str, Any]) -> None:
    response = await api.post("/v1/events", json={"events": list(events)}, headers=store.auth())
    assert response.status_code == 202, response.text


async def deliver(relay: Relay) -> int:
    total = 0
    while delivered := await relay.deliver_batch():
        total += delivered
    return total


async def undelivered(sessionmaker: SessionMaker, store_id: str) -> int:
    """This store's events the relay has not handed to Temporal yet."""
    async with sessionmaker() as session:
        query = select(func.count()).where(Event.store_id == store_id, Event.delivered_at.is_(None))
        return int(await session.scalar(query) or 0)


async def enable_flow(
    api: httpx.AsyncClient, store: StoreKeys, flow: dict[str, Any] = TWO_STEP_FLOW
) -> None:
    response = await api.put("/v1/flows/abandoned_cart", json=flow, headers=store.auth())
    assert response.status_code == 200, response.text


def shopper(customer_id: str = "c_1") -> dict[str, Any]:
    return event(
        "customer.upserted",
        {
            "customer_id": customer_id,
            "email": "ana@example.com",
            "phone": "+14155550123",
            "first_name": "Ana",
            "consent": {"email": True, "sms": True},
        },
    )


def product(product_id: str = "p_1", available: bool = True) -> dict[str, Any]:
    return event(
        "product.upserted",
        {
            "product_id": product_id,
            "title": "Linen shirt",
            "price": 4900,
            "currency": "USD",
            "category_ids": ["shirts"],
            "available": available,
        },
    )


def cart(
    cart_id: str = "k_1", customer_id: str | None = "c_1", quantity: int = 1, **kw: Any
) -> dict[str, Any]:
    items = [{"product_id": "p_1", "quantity": quantity, "unit_price": 4900}] if quantity else []
    data: dict[str, Any] = {"cart_id": cart_id, "currency": "USD", "items": items}
    if customer_id:
        data["customer_id"] = customer_id
    return event("cart.updated", data, **kw)


def order(
    order_id: str = "o_1", cart_id: str | None = "k_1", customer_id: str = "c_1"
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer_id,
        "currency": "USD",
        "items": [{"product_id": "p_1", "quantity": 1, "unit_price": 4900}],
        "total": 4900,
    }
    if cart_id:
        data["cart_id"] = cart_id
    return event("order.placed", data)


async def finish(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> Any:
    """Wait for the run's result, letting the test server skip time meanwhile."""
    async with env.time_skipping_unlocked():  # type: ignore[attr-defined]
        return await result_of(handle)


async def record_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With SHOPSTAR_RECORD_HISTORIES=1, keep the run's history for the replay tests."""
    if os.environ.get("SHOPSTAR_RECORD_HISTORIES"):
        history = await handle.fetch_history()
        (HISTORIES / f"{name}.json").write_text(history.to_json())


async def timer_durations(handle: WorkflowHandle[Any, Any]) -> list[tuple[str, float]]:
    """The run's timers in order: ("started", seconds) and ("canceled", 0), to the second (a wait
    counts from when the api accepted the event: the few milliseconds before the relay sent it
    shorten it)."""
    timers: list[tuple[str, float]] = []
    async for e in handle.fetch_history_events():
        if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timeout = e.timer_started_event_attributes.start_to_fire_timeout
            timers.append(
                (
                    "started",
                    round(timeout.ToTimedelta().total_seconds()),
                )
            )
        elif e.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            timers.append(("canceled", 0))
    return timers


BROWSE_FLOW: dict[str, Any] = {
    "enabled": True,
    "trigger_delay_seconds": 1800,
    "steps": [
        {
            "delay_seconds": 0,
            "channel": "email",
            "template": {
                "subject": "Still thinking about {{ product.title }}?",
                "body": "{{ link }}",
            },
        }
    ],
    "suppression": {"similar_message_window_seconds": 0, "recent_order_window_seconds": 0},
}
RETURN_FLOW: dict[str, Any] = {
    "enabled": True,
    "trigger_delay_seconds": DAY,
    "steps": [
        {
            "delay_seconds": 0,
            "channel": "sms",
            "template": {"body": "Thanks for order {{ order.id }}! {{ link }}"},
        }
    ],
    "suppression": {"similar_message_window_seconds": 0, "recent_order_window_seconds": 0},
}


async def put_flow(
    api: httpx.AsyncClient, store: StoreKeys, kind: str, flow: dict[str, Any]
) -> None:
    response = await api.put(f"/v1/flows/{kind}", json=flow, headers=store.auth())
    assert response.status_code == 200, response.text


def viewed(product_id: str = "p_1", customer_id: str = "c_1") -> dict[str, Any]:
    return event("product.viewed", {"customer_id": customer_id, "product_id": product_id})


async def messages(api: httpx.AsyncClient, store: StoreKeys, **params: str) -> list[dict[str, Any]]:
    response = await api.get(
        "/v1/messages", params={"limit": "500", **params}, headers=store.auth()
    )
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda m: (m["created_at"], m["step"]))


async def with_code_rule(
    api: httpx.AsyncClient, store: StoreKeys, flow: dict[str, Any], days: int = 30
) -> dict[str, Any]:
    """The flow with every step issuing a code of a new 15%-off rule (a return_purchase flow
    cannot be enabled without one)."""
    body = {"name": "Thanks", "actions": [{"type": "percent_off", "percent": 15, "target": "cart"}]}
    promo = await api.post(
        "/v1/promotions", json={**body, "requires_coupon": True}, headers=store.auth()
    )
    assert promo.status_code == 201, promo.text
    rule = await api.post(
        "/v1/promo-code-rules",
        json={"promotion_id": promo.json()["id"], "prefix": "THANKS", "expires_after_days": days},
        headers=store.auth(),
    )
    assert rule.status_code == 201, rule.text
    steps = [{**s, "promo_code_rule_id": rule.json()["id"]} for s in flow["steps"]]
    return {**flow, "steps": steps}
