"""Checkout keeps the store's parsed promotions and bundles between carts: a change is priced by
the very next evaluate, and a cart whose store is held costs one SQL statement."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sa_event

from api.main import create_app
from config import Settings
from tests.api.shop import FIXED_5, PCT_10, add_products, cart, coupon, evaluate, gift_card
from tests.api.shop import promotion as add_promotion
from tests.conftest import StoreKeys, event, make_store


def _discounts(result: dict[str, Any]) -> list[tuple[str, int]]:
    return [
        (d.get("promotion_id") or d.get("bundle_id") or "", d["amount"])
        for d in result["discounts"]
    ]


async def test_a_changed_promotion_or_bundle_is_priced_by_the_next_evaluate(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await add_products(api, store, ("p1", 5000, ["c"]), ("p2", 3000, ["c"]))
    body = cart(("p1", 2, 5000), ("p2", 1, 3000))
    promo = await add_promotion(api, store, PCT_10)
    assert _discounts(await evaluate(api, store, body)) == [(promo["id"], 1300)]
    url = f"/v1/promotions/{promo['id']}"

    edited = await api.patch(url, json={"actions": [FIXED_5]}, headers=store.auth())
    assert edited.status_code == 200, edited.text
    assert _discounts(await evaluate(api, store, body)) == [(promo["id"], 500)]

    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    ended = await api.patch(url, json={"ends_at": past}, headers=store.auth())
    assert ended.status_code == 200, ended.text
    assert _discounts(await evaluate(api, store, body)) == []

    other = await add_promotion(api, store, PCT_10)
    assert _discounts(await evaluate(api, store, body)) == [(other["id"], 1300)]
    assert (await api.delete(f"/v1/promotions/{other['id']}", headers=store.auth())).is_success
    assert _discounts(await evaluate(api, store, body)) == []

    bundle = await api.post(
        "/v1/bundles",
        json={
            "name": "Pair",
            "components": [
                {"product_id": "p1", "quantity": 1},
                {"product_id": "p2", "quantity": 1},
            ],
            "discount": {"type": "fixed", "value": 700},
        },
        headers=store.auth(),
    )
    assert bundle.status_code == 201, bundle.text
    assert _discounts(await evaluate(api, store, body)) == [(bundle.json()["id"], 700)]
    withdrawn = await api.delete(f"/v1/bundles/{bundle.json()['id']}", headers=store.auth())
    assert withdrawn.is_success
    assert _discounts(await evaluate(api, store, body)) == []


@pytest.fixture
async def counted(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """An api of its own whose SQL statements are recorded."""
    app = create_app(settings)
    statements: list[str] = []
    async with app.router.lifespan_context(app):

        def record(*args: Any) -> None:
            statements.append(args[2])

        sa_event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
        # Checkout's read runs on the driver's connection, past SQLAlchemy's events.
        direct = app.state.direct_statements.first

        async def first(sql: str, params: Any) -> Any:
            statements.append(sql)
            return await direct(sql, params)

        app.state.direct_statements.first = first  # the one method checkout calls
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, statements


async def test_a_held_store_prices_a_cart_in_one_statement(
    counted: tuple[httpx.AsyncClient, list[str]],
) -> None:
    api, statements = counted
    store: StoreKeys = await make_store(api, "One statement")
    await add_products(api, store, ("p1", 5000, ["c"]), ("gift", 900, []))
    red = {"variant_id": "tote-red", "price": 1200, "available": True}
    await add_products(api, store, ("tote", 1500, ["bags"]), variants=[red])
    customer = event("customer.upserted", {"customer_id": "c1", "shopper_groups": ["vip"]})
    assert (
        await api.post("/v1/events", json={"events": [customer]}, headers=store.auth())
    ).status_code == 202
    await add_promotion(
        api,
        store,
        PCT_10,
        conditions=[{"type": "shopper_group", "group": "vip"}, {"type": "first_order"}],
    )
    await add_promotion(api, store, {"type": "free_product", "product_id": "gift", "quantity": 1})
    await add_promotion(
        api, store, {"type": "free_product", "variant_id": "tote-red", "quantity": 1}
    )
    coded = await add_promotion(api, store, FIXED_5, requires_coupon=True)
    await coupon(api, store, coded["id"], code="FIVE")
    card = await gift_card(api, store, 1000)
    body = cart(
        ("p1", 2, 5000), customer_id="c1", coupon_codes=["FIVE"], gift_card_codes=[card["code"]]
    )
    first = await evaluate(api, store, body, "secret")  # loads the store's promotions
    statements.clear()
    again = await evaluate(api, store, body, "secret")
    assert again == first
    assert len(first["discounts"]) == 4 and first["gift_cards"][0]["amount"] == 1000
    # The free variant at its own price, with its product's categories.
    assert [
        (i["product_id"], i.get("variant_id"), i["unit_price"]) for i in first["added_items"]
    ] == [
        ("gift", None, 900),
        ("tote", "tote-red", 1200),
    ]
    assert len(statements) == 1, statements

    # The variant is read afresh by every checkout: sold out, it is not given any more.
    await add_products(api, store, ("tote", 1500, ["bags"]), variants=[{**red, "available": False}])
    statements.clear()
    sold_out = await evaluate(api, store, body, "secret")
    assert len(statements) == 1, statements
    assert [i["product_id"] for i in sold_out["added_items"]] == ["gift"]
    assert len(sold_out["discounts"]) == 3
