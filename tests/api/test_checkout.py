"""Checkout evaluate: promotions, codes and cards priced, every rejected code with a reason,
bad carts refused field by field, keys and store isolation."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update

from models import GiftCard
from models.database import SessionMaker
from tests.api.shop import (
    FIXED_5,
    PCT_10,
    add_products,
    cart,
    coupon,
    evaluate,
    fields_of,
    gift_card,
    promotion,
)
from tests.conftest import StoreKeys, event, make_store


async def test_prices_promotions_coupons_and_gift_cards(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    auto = await promotion(api, store, PCT_10, priority=10)
    coded = await promotion(api, store, FIXED_5, requires_coupon=True)
    await coupon(api, store, coded["id"], code="FIVE")
    card = await gift_card(api, store, 2000)
    body = cart(
        ("p1", 2, 5000), shipping=700, coupon_codes=["five"], gift_card_codes=[card["code"]]
    )
    result = await evaluate(api, store, body, "secret")
    assert result == {
        "subtotal": 10000,
        "discounts": [
            {
                "source": "automatic",
                "promotion_id": auto["id"],
                "amount": 1000,
                "lines": [{"index": 0, "amount": 1000}],
            },
            {
                "source": "coupon",
                "promotion_id": coded["id"],
                "code": "FIVE",
                "amount": 500,
                "lines": [{"index": 0, "amount": 500}],
            },
        ],
        "shipping": 700,
        "shipping_discount": 0,
        "total": 9200,
        "gift_cards": [{"code": f"****{card['last4']}", "amount": 2000}],
        "store_credit_applied": 0,
        "amount_due": 7200,
        "added_items": [],
        "rejected_codes": [],
    }


async def test_every_rejected_code_has_a_reason(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    coded = await promotion(api, store, PCT_10, requires_coupon=True)
    later = await promotion(
        api, store, PCT_10, requires_coupon=True, starts_at="2099-01-01T00:00:00Z"
    )
    big = await promotion(
        api,
        store,
        PCT_10,
        requires_coupon=True,
        conditions=[{"type": "cart_total_min", "amount": 100_000}],
    )
    fixed = await promotion(api, store, FIXED_5, requires_coupon=True)
    await coupon(api, store, coded["id"], code="OLD", expires_at=past)
    await coupon(api, store, coded["id"], code="ONCE", usage="single_use_per_customer")
    await coupon(api, store, later["id"], code="SOON")
    await coupon(api, store, big["id"], code="BIG")
    await coupon(api, store, fixed["id"], code="DOLLARS")
    await coupon(api, store, coded["id"], code="MINE", customer_id="someone_else")
    euro_card = await gift_card(api, store, 500, currency="EUR")
    old_card = await gift_card(api, store, 500)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(GiftCard)
            .where(GiftCard.id == old_card["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
    body = cart(
        ("p1", 1, 5000),
        coupon_codes=["NOPE", "OLD", "SOON", "BIG", "ONCE", "MINE", "nope"],
        gift_card_codes=["AAAA-BBBB-CCCC-DDDD", old_card["code"], euro_card["code"]],
    )
    result = await evaluate(api, store, body, "secret")
    assert result["discounts"] == [] and result["gift_cards"] == []
    assert result["rejected_codes"] == [
        {"code": "NOPE", "reason": "unknown"},
        {"code": "OLD", "reason": "expired"},
        {"code": "SOON", "reason": "not_started"},
        {"code": "ONCE", "reason": "not_eligible"},  # once per customer needs a customer
        {"code": "MINE", "reason": "not_eligible"},
        {"code": "NOPE", "reason": "duplicate"},
        {"code": "****DDDD", "reason": "unknown"},
        {"code": f"****{old_card['last4']}", "reason": "expired"},
        {"code": "BIG", "reason": "not_eligible"},
        {"code": f"****{euro_card['last4']}", "reason": "currency_mismatch"},
    ]
    euros = await evaluate(
        api, store, cart(("p1", 1, 5000), currency="EUR", coupon_codes=["DOLLARS"]), "secret"
    )
    assert euros["rejected_codes"] == [{"code": "DOLLARS", "reason": "currency_mismatch"}]
    # A publishable key: one reason for all, in the order given (test_checkout_publishable.py).
    cards = [f"****{old_card['last4']}", f"****{euro_card['last4']}"]
    public = await evaluate(api, store, body)
    assert public["rejected_codes"] == [
        {"code": code, "reason": "invalid_code"}
        for code in ["NOPE", "OLD", "SOON", "BIG", "ONCE", "MINE", "NOPE", "****DDDD", *cards]
    ]


async def test_customer_facts_and_free_product(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await add_products(api, store, ("tote", 1500, ["bags"]), ("p1", 5000, ["shoes"]))
    vip = await promotion(
        api, store, PCT_10, conditions=[{"type": "shopper_group", "group": "vip"}]
    )
    first = await promotion(
        api,
        store,
        {"type": "free_product", "product_id": "tote", "quantity": 1},
        conditions=[{"type": "first_order"}],
    )
    upsert = event("customer.upserted", {"customer_id": "ann", "shopper_groups": ["vip"]})
    await api.post("/v1/events", json={"events": [upsert]}, headers=store.auth())
    result = await evaluate(api, store, cart(("p1", 1, 5000), customer_id="ann"), "secret")
    assert [d["promotion_id"] for d in result["discounts"]] == [vip["id"], first["id"]]
    assert result["added_items"] == [{"product_id": "tote", "quantity": 1, "unit_price": 1500}]
    assert result["discounts"][1]["lines"] == [{"index": 1, "amount": 1500}]
    assert result["subtotal"] == 6500 and result["total"] == 4500
    placed = event(
        "order.placed",
        {"order_id": "o_old", "customer_id": "ann", "currency": "USD", "items": [], "total": 100},
    )
    await api.post("/v1/events", json={"events": [placed]}, headers=store.auth())
    again = await evaluate(api, store, cart(("p1", 1, 5000), customer_id="ann"), "secret")
    assert [d["promotion_id"] for d in again["discounts"]] == [vip["id"]]
    cancelled = event("order.cancelled", {"order_id": "o_old"})
    await api.post("/v1/events", json={"events": [cancelled]}, headers=store.auth())
    back = await evaluate(api, store, cart(("p1", 1, 5000), customer_id="ann"), "secret")
    assert len(back["discounts"]) == 2


async def test_bad_carts_name_the_field(api: httpx.AsyncClient, store: StoreKeys) -> None:
    cases = [
        ({**cart(("p", 1, -1))}, "items.0.unit_price"),
        ({**cart(("p", 0, 100))}, "items.0.quantity"),
        (
            {**cart(), "items": [{"product_id": "p", "quantity": 1, "unit_price": 9.99}]},
            "items.0.unit_price",
        ),
        ({**cart(("p", 1, 100)), "currency": "usd"}, "currency"),
        ({**cart(("p", 1, 100)), "shipping": -5}, "shipping"),
        ({**cart(), "items": []}, "items"),
        ({**cart(("p", 1, 100)), "coupons": ["X"]}, "coupons"),
    ]
    for body, field in cases:
        response = await api.post("/v1/checkout/evaluate", json=body, headers=store.auth())
        assert response.status_code == 422, (body, response.text)
        assert fields_of(response) == {field}, response.json()
    missing = await api.post(
        "/v1/checkout/complete", json=cart(("p", 1, 100)), headers=store.auth()
    )
    assert missing.status_code == 422 and fields_of(missing) == {"order_id"}


async def test_keys_and_store_isolation(api: httpx.AsyncClient, store: StoreKeys) -> None:
    coded = await promotion(api, store, PCT_10, requires_coupon=True)
    await coupon(api, store, coded["id"], code="MINE")
    card = await gift_card(api, store, 1000)
    body = cart(("p1", 1, 1000), coupon_codes=["MINE"], gift_card_codes=[card["code"]])
    assert (await api.post("/v1/checkout/evaluate", json=body)).status_code == 401
    public = await api.post(
        "/v1/checkout/complete", json={**body, "order_id": "x"}, headers=store.auth("publishable")
    )
    assert public.status_code == 403
    other = await make_store(api, "Other")
    result = await evaluate(api, other, body, "secret")
    assert [r["reason"] for r in result["rejected_codes"]] == ["unknown", "unknown"]
    assert result["amount_due"] == 1000
    shown = await evaluate(api, other, body)
    assert [r["reason"] for r in shown["rejected_codes"]] == ["invalid_code", "invalid_code"]
