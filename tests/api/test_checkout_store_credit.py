"""Store credit at checkout: applied after gift cards, capped at what is due (and, on evaluate, at
the balance), drawn in full or refused at completion, and given back once on cancel or full
refund."""

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.api.shop import (
    FIXED_5,
    cart,
    complete,
    coupon,
    evaluate,
    fields_of,
    gift_card,
    promotion,
)
from tests.conftest import StoreKeys, event

RACERS = 50


async def grant(
    api: httpx.AsyncClient, store: StoreKeys, amount: int, customer: str = "c1"
) -> None:
    known = [event("customer.upserted", {"customer_id": customer})]
    upserted = await api.post("/v1/events", json={"events": known}, headers=store.auth())
    assert upserted.status_code == 202
    body = {"amount": amount, "currency": "USD", "reason": "goodwill"}
    response = await api.post(
        f"/v1/customers/{customer}/store-credit", json=body, headers=store.auth()
    )
    assert response.status_code == 201, response.text


async def balance(api: httpx.AsyncClient, store: StoreKeys, customer: str = "c1") -> int:
    response = await api.get(f"/v1/customers/{customer}/store-credit", headers=store.auth())
    assert response.status_code == 200, response.text
    usd = [b["balance"] for b in response.json()["balances"] if b["currency"] == "USD"]
    return usd[0] if usd else 0


async def events(api: httpx.AsyncClient, store: StoreKeys, *batch: dict[str, Any]) -> None:
    response = await api.post("/v1/events", json={"events": list(batch)}, headers=store.auth())
    assert response.status_code == 202, response.text


async def test_evaluate_caps_at_the_balance_and_at_what_is_due(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await grant(api, store, 3000)
    card = await gift_card(api, store, 1000)
    body = cart(("p1", 1, 5000), customer_id="c1", gift_card_codes=[card["code"]])
    asked_less = await evaluate(api, store, {**body, "store_credit": 1500}, "secret")
    assert (asked_less["total"], asked_less["store_credit_applied"]) == (5000, 1500)
    assert asked_less["amount_due"] == 5000 - 1000 - 1500
    asked_more = await evaluate(api, store, {**body, "store_credit": 9999}, "secret")
    assert (asked_more["store_credit_applied"], asked_more["amount_due"]) == (3000, 1000)
    small = cart(("p1", 1, 800), customer_id="c1", store_credit=3000)
    covered = await evaluate(api, store, small, "secret")
    assert (covered["store_credit_applied"], covered["amount_due"]) == (800, 0)
    none = await evaluate(api, store, cart(("p1", 1, 800), customer_id="c1"), "secret")
    assert (none["store_credit_applied"], none["amount_due"]) == (0, 800)
    assert await balance(api, store) == 3000  # evaluate records nothing


async def test_store_credit_needs_a_customer(api: httpx.AsyncClient, store: StoreKeys) -> None:
    response = await api.post(
        "/v1/checkout/evaluate",
        json=cart(("p1", 1, 800), store_credit=100),
        headers=store.auth("publishable"),
    )
    assert response.status_code == 422
    assert fields_of(response) == {"store_credit"}


async def test_complete_draws_in_full_or_refuses_and_records_nothing(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await grant(api, store, 2000)
    coded = await promotion(api, store, FIXED_5, requires_coupon=True)
    code = await coupon(api, store, coded["id"], code="ONCE", usage="limited", usage_limit=1)
    body = cart(("p1", 1, 5000), customer_id="c1", coupon_codes=["ONCE"], store_credit=1500)
    done = await complete(api, store, body, "o1")
    assert done.status_code == 200, done.text
    applied, due = done.json()["store_credit_applied"], done.json()["amount_due"]
    assert (applied, due) == (1500, 5000 - 500 - 1500)
    assert await balance(api, store) == 500

    # 1000 asked, 500 held: refused whole, never a smaller credit; the coupon is not used either.
    other = await coupon(api, store, coded["id"], code="TWICE", usage="limited", usage_limit=1)
    short = cart(("p1", 1, 5000), customer_id="c1", coupon_codes=["TWICE"], store_credit=1000)
    refused = await complete(api, store, short, "o2")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "store_credit_insufficient_balance"
    assert await balance(api, store) == 500
    used = await api.get(f"/v1/coupons/{other['id']}", headers=store.auth())
    assert used.json()["used_count"] == 0
    used = await api.get(f"/v1/coupons/{code['id']}", headers=store.auth())
    assert used.json()["used_count"] == 1


async def test_cancel_and_full_refund_give_credit_back_once_partial_refund_does_not(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await grant(api, store, 10_000)
    for order_id in ("o1", "o2", "o3"):
        body = cart(("p1", 1, 2000), customer_id="c1", store_credit=2000)
        assert (await complete(api, store, body, order_id)).status_code == 200
    assert await balance(api, store) == 4000
    await events(
        api,
        store,
        event("order.cancelled", {"order_id": "o1"}),
        event("order.cancelled", {"order_id": "o1"}),
        event("order.refunded", {"order_id": "o1"}),
    )
    assert await balance(api, store) == 6000  # o1's 2000 back, once
    await events(api, store, event("order.refunded", {"order_id": "o2", "amount": 500}))
    assert await balance(api, store) == 6000  # a partial refund gives nothing back
    await events(api, store, event("order.refunded", {"order_id": "o3"}))
    await events(api, store, event("order.refunded", {"order_id": "o3"}))
    assert await balance(api, store) == 8000
    entries = (await api.get("/v1/customers/c1/store-credit/entries", headers=store.auth())).json()[
        "items"
    ]
    assert Counter((e["order_id"], e["amount"]) for e in entries) == {
        ("o1", -2000): 1,
        ("o2", -2000): 1,
        ("o3", -2000): 1,
        ("o1", 2000): 1,
        ("o3", 2000): 1,
        (None, 10_000): 1,
    }


async def test_store_credit_serves_exactly_its_balance_under_a_race(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await grant(api, store, 10_000)
    body = cart(("p1", 1, 5000), customer_id="c1", store_credit=1000)

    async def attempt(n: int) -> httpx.Response:
        return await complete(api, store, body, f"o{n}")

    responses = await asyncio.gather(*(attempt(n) for n in range(RACERS)))
    outcomes = Counter(
        "ok" if r.status_code == 200 else f"{r.status_code} {r.json()['error']['code']}"
        for r in responses
    )
    assert outcomes == {"ok": 10, "409 store_credit_insufficient_balance": RACERS - 10}
    assert await balance(api, store) == 0
    assert all(r.json()["store_credit_applied"] == 1000 for r in responses if r.status_code == 200)
