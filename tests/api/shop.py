"""Helpers for the promotion and checkout tests: a catalog, promotions, codes and cards."""

from typing import Any

import httpx

from tests.conftest import StoreKeys, event


async def add_products(
    api: httpx.AsyncClient, store: StoreKeys, *products: tuple[str, int, list[str]], **extra: Any
) -> None:
    """(product_id, price, category_ids) each, available, in USD."""
    batch = [
        event(
            "product.upserted",
            {
                "product_id": pid,
                "title": pid.title(),
                "price": price,
                "currency": "USD",
                "category_ids": cats,
                "available": True,
                **extra,
            },
        )
        for pid, price, cats in products
    ]
    response = await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    assert response.status_code == 202, response.text


async def promotion(
    api: httpx.AsyncClient, store: StoreKeys, *actions: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    body = {"name": fields.pop("name", "Promo"), "actions": list(actions), **fields}
    response = await api.post("/v1/promotions", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def coupon(
    api: httpx.AsyncClient, store: StoreKeys, promotion_id: str, **fields: Any
) -> dict[str, Any]:
    body = {"promotion_id": promotion_id, "usage": "unrestricted", **fields}
    response = await api.post("/v1/coupons", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def gift_card(
    api: httpx.AsyncClient, store: StoreKeys, balance: int, **fields: Any
) -> dict[str, Any]:
    body = {"initial_balance": balance, "currency": "USD", **fields}
    response = await api.post("/v1/gift-cards", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def cart(*items: tuple[str, int, int], **fields: Any) -> dict[str, Any]:
    """(product_id, quantity, unit_price) each."""
    lines = [{"product_id": p, "quantity": q, "unit_price": u} for p, q, u in items]
    return {"currency": "USD", "items": lines, "shipping": 0, **fields}


async def evaluate(
    api: httpx.AsyncClient, store: StoreKeys, body: dict[str, Any], kind: str = "publishable"
) -> dict[str, Any]:
    response = await api.post("/v1/checkout/evaluate", json=body, headers=store.auth(kind))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def complete(
    api: httpx.AsyncClient, store: StoreKeys, body: dict[str, Any], order_id: str
) -> httpx.Response:
    return await api.post(
        "/v1/checkout/complete", json={**body, "order_id": order_id}, headers=store.auth()
    )


def fields_of(response: httpx.Response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


PCT_10 = {"type": "percent_off", "percent": 10, "target": "cart"}
FIXED_5 = {"type": "fixed_off", "amount": 500}
