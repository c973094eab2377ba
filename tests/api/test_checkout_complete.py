"""Checkout complete: evaluate == complete, idempotent by order id, 409 for what ran out, and
coupon uses and gift-card draws given back once on cancel or full refund."""

import random

import httpx

from tests.api.shop import (
    FIXED_5,
    PCT_10,
    add_products,
    cart,
    complete,
    coupon,
    evaluate,
    gift_card,
    promotion,
)
from tests.conftest import StoreKeys, event


async def test_evaluate_equals_complete_and_retry_changes_nothing(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await promotion(api, store, PCT_10)
    coded = await promotion(api, store, FIXED_5, requires_coupon=True)
    code = await coupon(api, store, coded["id"], code="ONE", usage="limited", usage_limit=5)
    card = await gift_card(api, store, 3000)
    body = cart(
        ("p1", 1, 2000),
        ("p2", 3, 999),
        shipping=500,
        customer_id="c1",
        coupon_codes=["ONE"],
        gift_card_codes=[card["code"]],
    )
    evaluated = await evaluate(api, store, body, "secret")
    first = await complete(api, store, body, "order-1")
    assert first.status_code == 200, first.text
    assert first.json() == {"order_id": "order-1", **evaluated}
    other_body = cart(("p9", 1, 100))
    retry = await complete(api, store, other_body, "order-1")
    assert retry.status_code == 200 and retry.json() == first.json()
    used = await api.get(f"/v1/coupons/{code['id']}", headers=store.auth())
    assert used.json()["used_count"] == 1
    balance = await api.get(f"/v1/gift-cards/{card['id']}", headers=store.auth())
    drawn = evaluated["gift_cards"][0]["amount"]
    assert balance.json()["balance"] == 3000 - drawn
    assert [t["kind"] for t in balance.json()["transactions"]] == ["issue", "redemption"]


async def test_cancel_and_full_refund_give_back_once(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    coded = await promotion(api, store, FIXED_5, requires_coupon=True)
    code = await coupon(api, store, coded["id"], code="LAST", usage="limited", usage_limit=1)
    card = await gift_card(api, store, 10_000)
    body = cart(("p1", 1, 4000), coupon_codes=["LAST"], gift_card_codes=[card["code"]])
    assert (await complete(api, store, body, "o1")).status_code == 200
    spent = await complete(api, store, body, "o2")
    assert spent.status_code == 409 and spent.json()["error"]["code"] == "coupon_exhausted"
    partial = event("order.refunded", {"order_id": "o1", "amount": 100})
    await api.post("/v1/events", json={"events": [partial]}, headers=store.auth())
    assert (await api.get(f"/v1/coupons/{code['id']}", headers=store.auth())).json()[
        "used_count"
    ] == 1
    for _ in range(2):
        refund = event("order.refunded", {"order_id": "o1"})
        await api.post("/v1/events", json={"events": [refund]}, headers=store.auth())
    assert (await api.get(f"/v1/coupons/{code['id']}", headers=store.auth())).json()[
        "used_count"
    ] == 0
    after = (await api.get(f"/v1/gift-cards/{card['id']}", headers=store.auth())).json()
    assert after["balance"] == 10_000
    assert [t["kind"] for t in after["transactions"]] == ["issue", "redemption", "release"]
    # The code is free again: another order may take it, and a cancel gives it back too.
    assert (await complete(api, store, body, "o3")).status_code == 200
    cancel = event("order.cancelled", {"order_id": "o3"})
    await api.post("/v1/events", json={"events": [cancel]}, headers=store.auth())
    assert (await api.get(f"/v1/coupons/{code['id']}", headers=store.auth())).json()[
        "used_count"
    ] == 0


async def test_spent_gift_card_fails_completion(api: httpx.AsyncClient, store: StoreKeys) -> None:
    card = await gift_card(api, store, 1000)
    body = cart(("p1", 1, 1000), gift_card_codes=[card["code"]])
    assert (await complete(api, store, body, "a")).status_code == 200
    spent = await complete(api, store, body, "b")
    assert spent.status_code == 409
    assert spent.json()["error"]["code"] == "gift_card_insufficient_balance"
    assert card["code"].replace("-", "") not in spent.text


async def test_evaluate_equals_complete_for_random_carts(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    """Seeded random carts against a mix of promotions, codes and cards: completing prices
    exactly what evaluating priced just before."""
    rng = random.Random(7)
    catalog = [(f"p{k}", rng.randrange(100, 9000), [f"c{k % 3}"]) for k in range(8)]
    await add_products(api, store, *catalog)
    await promotion(
        api,
        store,
        {"type": "percent_off", "percent": 15, "target": "items", "category_ids": ["c1"]},
        priority=5,
    )
    await promotion(
        api,
        store,
        {
            "type": "buy_x_get_y",
            "buy": {"quantity": 2},
            "get": {"quantity": 1},
            "max_applications": 1,
        },
    )
    await promotion(
        api,
        store,
        {"type": "free_shipping"},
        conditions=[{"type": "cart_total_min", "amount": 20_000}],
    )
    coded = await promotion(api, store, FIXED_5, requires_coupon=True, exclusive=True)
    await coupon(api, store, coded["id"], code="RANDOM")
    card = await gift_card(api, store, 1_000_000)
    for n in range(15):
        items = [(p, rng.randint(1, 4), price) for p, price, _ in rng.sample(catalog, 4)]
        body = cart(
            *items,
            shipping=rng.choice([0, 599]),
            coupon_codes=rng.choice([[], ["RANDOM"], ["random", "NOPE"]]),
            gift_card_codes=rng.choice([[], [card["code"]]]),
        )
        evaluated = await evaluate(api, store, body, "secret")
        completed = await complete(api, store, body, f"rand-{n}")
        assert completed.status_code == 200, completed.text
        assert completed.json() == {"order_id": f"rand-{n}", **evaluated}
