"""Helpers for the affiliate tests: an affiliate, a click, an order and its refunds."""

from typing import Any

import httpx

from models.database import SessionMaker
from services.growth.commissions import approve
from tests.conftest import StoreKeys, event


async def new_affiliate(api: httpx.AsyncClient, store: StoreKeys, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Ada's Picks",
        "email": "ada@example.com",
        "commission": {"type": "percent", "value": 1000},
        "holding_days": 0,
        "payout": {"mode": "manual", "minimum": 0},
        **fields,
    }
    response = await api.post("/v1/affiliates", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    affiliate: dict[str, Any] = response.json()
    return affiliate


async def click(api: httpx.AsyncClient, store: StoreKeys, code: str, visitor: str) -> None:
    body = {"code": code, "visitor_id": visitor, "landing_url": "https://shop.test/?aff=" + code}
    response = await api.post(
        "/v1/storefront/affiliate-clicks", json=body, headers=store.auth("publishable")
    )
    assert response.status_code == 204, response.text


async def post(api: httpx.AsyncClient, store: StoreKeys, *events: dict[str, Any]) -> None:
    response = await api.post("/v1/events", json={"events": list(events)}, headers=store.auth())
    assert response.status_code == 202, response.text


def placed(order_id: str, total: int = 10_000, **fields: Any) -> dict[str, Any]:
    at = fields.pop("at", None)
    data = {
        "order_id": order_id,
        "customer_id": "c_1",
        "currency": "USD",
        "items": [{"product_id": "p_1", "quantity": 1, "unit_price": total}],
        "total": total,
        **fields,
    }
    return event("order.placed", data, at=at)


def refunded(order_id: str, amount: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"order_id": order_id}
    if amount is not None:
        data["amount"] = amount
    return event("order.refunded", data)


async def commissions_of(
    api: httpx.AsyncClient, store: StoreKeys, affiliate_id: str
) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/affiliates/{affiliate_id}/commissions", headers=store.auth())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def approve_now(sessionmaker: SessionMaker, store: StoreKeys, *order_ids: str) -> None:
    """What the commission run does at the end of its hold (the workflow tests run it)."""
    async with sessionmaker.begin() as session:
        for order_id in order_ids:
            assert await approve(session, store.id, order_id) == "approved"
