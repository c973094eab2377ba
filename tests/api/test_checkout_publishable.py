"""A publishable key sits in every storefront page: evaluate with it tells nobody more than a
shopper may know. Codes that do not apply all read `invalid_code`, a gift card shows no more than
the cart's items cost by the catalog, and customer pricing needs a shopper token from the
platform's backend. The secret key keeps the detail."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from config import Settings
from services.checkout.shopper_tokens import issue_shopper_token
from tests.api.shop import (
    PCT_10,
    add_products,
    cart,
    complete,
    coupon,
    evaluate,
    gift_card,
    promotion,
)
from tests.conftest import StoreKeys, event, make_store


async def shopper_token(api: httpx.AsyncClient, store: StoreKeys, customer_id: str) -> str:
    response = await api.post(
        "/v1/shopper-tokens", json={"customer_id": customer_id}, headers=store.auth()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expires = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < expires <= timedelta(minutes=15)
    token: str = body["token"]
    return token


async def test_a_fake_and_a_customer_bound_code_look_the_same(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    coded = await promotion(api, store, PCT_10, requires_coupon=True)
    await coupon(api, store, coded["id"], code="FORANN", customer_id="ann")
    await coupon(api, store, coded["id"], code="LIMITED", usage="limited", usage_limit=1)
    await coupon(api, store, coded["id"], code="LATER", expires_at="2000-01-01T00:00:00Z")

    async def rejected(codes: list[str], kind: str) -> list[dict[str, Any]]:
        result = await evaluate(api, store, cart(("p", 1, 5000), coupon_codes=codes), kind)
        assert result["discounts"] == []
        return list(result["rejected_codes"])

    # Neither the reason nor the position in the list tells a real code from a made-up one.
    assert await rejected(["FORANN", "MADEUP"], "publishable") == [
        {"code": "FORANN", "reason": "invalid_code"},
        {"code": "MADEUP", "reason": "invalid_code"},
    ]
    assert await rejected(["MADEUP", "FORANN", "LATER"], "publishable") == [
        {"code": "MADEUP", "reason": "invalid_code"},
        {"code": "FORANN", "reason": "invalid_code"},
        {"code": "LATER", "reason": "invalid_code"},
    ]
    # Even with a customer_id: a bare id is anyone's guess, so it is priced as a guest.
    guest = await evaluate(
        api, store, cart(("p", 1, 5000), coupon_codes=["FORANN"], customer_id="ann")
    )
    assert guest["rejected_codes"] == [{"code": "FORANN", "reason": "invalid_code"}]
    # The platform's backend still gets the detail.
    assert await rejected(["FORANN", "MADEUP", "LATER"], "secret") == [
        {"code": "FORANN", "reason": "not_eligible"},
        {"code": "MADEUP", "reason": "unknown"},
        {"code": "LATER", "reason": "expired"},
    ]


async def test_a_gift_card_balance_is_not_revealed_by_an_inflated_cart(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await add_products(api, store, ("mug", 2000, ["kitchen"]))
    card = await gift_card(api, store, 50_000)
    masked = f"****{card['last4']}"
    inflated = cart(("mug", 1, 10**12), shipping=10**12, gift_card_codes=[card["code"]])
    response = await api.post(
        "/v1/checkout/evaluate", json=inflated, headers=store.auth("publishable")
    )
    assert response.status_code == 200, response.text
    public = response.json()
    # A real cart of one mug would use 20.00 of the card: that is all that is shown.
    assert public["gift_cards"] == [{"code": masked, "amount": 2000}]
    assert public["amount_due"] == public["total"] - 2000
    assert "50000" not in response.text and card["code"] not in response.text
    # A made-up product counts for nothing; two real mugs at a lower price count at that price.
    unknown = await evaluate(api, store, cart(("ghost", 1, 10**12), gift_card_codes=[card["code"]]))
    assert unknown["gift_cards"] == [{"code": masked, "amount": 0}]
    cheaper = await evaluate(api, store, cart(("mug", 2, 1500), gift_card_codes=[card["code"]]))
    assert cheaper["gift_cards"] == [{"code": masked, "amount": 3000}]
    assert cheaper["amount_due"] == 0
    # The secret key (the platform's backend, which sets the real prices) sees the whole draw.
    full = await evaluate(api, store, inflated, "secret")
    assert full["gift_cards"] == [{"code": masked, "amount": 50_000}]
    # An emptied card looks like a live one the cart does not reach, not like a rejected one.
    spent = await gift_card(api, store, 2000)
    done = await complete(api, store, cart(("mug", 1, 2000), gift_card_codes=[spent["code"]]), "o")
    assert done.status_code == 200, done.text
    both = cart(("ghost", 1, 10**12), gift_card_codes=[spent["code"], card["code"]])
    assert (await evaluate(api, store, both))["gift_cards"] == [
        {"code": f"****{spent['last4']}", "amount": 0},
        {"code": masked, "amount": 0},
    ]


async def test_customer_pricing_needs_a_shopper_token(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    vip = await promotion(
        api, store, PCT_10, conditions=[{"type": "shopper_group", "group": "vip"}]
    )
    once = await promotion(api, store, {"type": "fixed_off", "amount": 300}, requires_coupon=True)
    await coupon(api, store, once["id"], code="WELCOME", usage="single_use_per_customer")
    upsert = event("customer.upserted", {"customer_id": "ann", "shopper_groups": ["vip"]})
    await api.post("/v1/events", json={"events": [upsert]}, headers=store.auth())
    body = cart(("p", 1, 5000), coupon_codes=["WELCOME"])

    bare = await evaluate(api, store, {**body, "customer_id": "ann"})
    assert bare["discounts"] == [] and bare["total"] == 5000
    assert bare["rejected_codes"] == [{"code": "WELCOME", "reason": "invalid_code"}]

    token = await shopper_token(api, store, "ann")
    signed = await evaluate(api, store, {**body, "shopper_token": token})
    assert [d["promotion_id"] for d in signed["discounts"]] == [vip["id"], once["id"]]
    assert signed["rejected_codes"] == [] and signed["total"] == 5000 - 500 - 300
    # The same customer named twice is fine; the secret key is trusted with a bare id.
    both = await evaluate(api, store, {**body, "shopper_token": token, "customer_id": "ann"})
    assert both == signed
    assert await evaluate(api, store, {**body, "customer_id": "ann"}, "secret") == signed
    # Completing (secret key) with the token records the use for that customer.
    done = await api.post(
        "/v1/checkout/complete",
        json={**body, "shopper_token": token, "order_id": "o1"},
        headers=store.auth(),
    )
    assert done.status_code == 200, done.text
    again = await evaluate(api, store, {**body, "shopper_token": token}, "secret")
    assert again["rejected_codes"] == [{"code": "WELCOME", "reason": "already_used_by_customer"}]


async def test_bad_shopper_tokens_are_refused(
    api: httpx.AsyncClient, store: StoreKeys, settings: Settings
) -> None:
    vip = await promotion(
        api, store, PCT_10, conditions=[{"type": "shopper_group", "group": "vip"}]
    )
    assert vip["id"]
    other = await make_store(api, "Other")
    token = await shopper_token(api, store, "ann")
    payload, mac = token.split(".")
    bob_payload = issue_shopper_token("x", store.id, "bob", datetime.now(UTC), 900)[0]
    expired, _ = issue_shopper_token(
        settings.shopper_token_secret, store.id, "ann", datetime.now(UTC) - timedelta(hours=1), 900
    )
    refused = {
        "another store's": await shopper_token(api, other, "ann"),
        "expired": expired,
        "tampered MAC": f"{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}",
        "other customer, same MAC": f"{bob_payload.split('.')[0]}.{mac}",
        "signed with another secret": issue_shopper_token(
            "not-the-server-secret", store.id, "ann", datetime.now(UTC), 900
        )[0],
        "garbage": "not-a-token",
        "malformed": "W" * 900 + ".x",
    }
    for label, bad in refused.items():
        for kind in ("publishable", "secret"):
            response = await api.post(
                "/v1/checkout/evaluate",
                json=cart(("p", 1, 5000), shopper_token=bad),
                headers=store.auth(kind),
            )
            assert response.status_code == 422, (label, response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid_shopper_token", label
            assert [d["field"] for d in error["details"]] == ["shopper_token"]
    mismatch = await api.post(
        "/v1/checkout/evaluate",
        json=cart(("p", 1, 5000), shopper_token=token, customer_id="bob"),
        headers=store.auth("publishable"),
    )
    assert mismatch.status_code == 422
    assert [d["field"] for d in mismatch.json()["error"]["details"]] == ["customer_id"]
    # Only the platform's backend mints tokens.
    minted = await api.post(
        "/v1/shopper-tokens", json={"customer_id": "ann"}, headers=store.auth("publishable")
    )
    assert minted.status_code == 403
    for body in ({}, {"customer_id": ""}, {"customer_id": "ann", "ttl_seconds": 86_400}):
        response = await api.post("/v1/shopper-tokens", json=body, headers=store.auth())
        assert response.status_code == 422, body
