"""Visits and attribution through the API: first and last touch, a visitor who becomes a
customer, the platform's attribution winning over touches, the report against figures worked
out by hand, and the 422s and 404s."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.database import SessionMaker
from tests.api import ads
from tests.conftest import StoreKeys, event, make_store
from tests.integrations.rows import add_message

SHOP = "https://shop.example"


async def visit(
    api: httpx.AsyncClient,
    store: StoreKeys,
    visitor_id: str,
    query: str = "",
    referrer: str | None = None,
    customer_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"visitor_id": visitor_id, "landing_url": f"{SHOP}/p/1{query}"}
    if referrer is not None:
        body["referrer"] = referrer
    if customer_id is not None:
        body["customer_id"] = customer_id
    response = await api.post("/v1/storefront/visits", json=body, headers=store.auth("pk"))
    assert response.status_code == 201, response.text
    visited: dict[str, Any] = response.json()
    return visited


def placed(
    order_id: str,
    customer_id: str,
    total: int,
    currency: str = "USD",
    attribution: dict[str, Any] | None = None,
    channel: str = "storefront",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": customer_id,
        "currency": currency,
        "items": [{"product_id": "p_1", "quantity": 1, "unit_price": total}],
        "total": total,
        "channel": channel,
    }
    if attribution is not None:
        data["attribution"] = attribution
    return event("order.placed", data)


async def post(api: httpx.AsyncClient, store: StoreKeys, *events: dict[str, Any]) -> None:
    response = await api.post("/v1/events", json={"events": list(events)}, headers=store.auth())
    assert response.status_code == 202, response.text


async def attribution_of(api: httpx.AsyncClient, store: StoreKeys, order_id: str) -> Any:
    response = await api.get(f"/v1/orders/{order_id}/attribution", headers=store.auth())
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_visit_answers_its_touch_with_the_fbc(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    visited = await visit(api, store, "v_1", "?utm_source=meta&utm_medium=paid&fbclid=IwAR_XyZ")
    ms = int(datetime.fromisoformat(visited["visited_at"]).timestamp() * 1000)
    assert visited["touch"]["fbc"] == f"fb.1.{ms}.IwAR_XyZ"
    assert (visited["touch"]["source"], visited["touch"]["medium"]) == ("meta", "paid")


async def test_first_touch_and_last_touch(api: httpx.AsyncClient, store: StoreKeys) -> None:
    first = await visit(api, store, "v_1", "?utm_source=google&utm_medium=cpc&utm_campaign=spring")
    social = await visit(api, store, "v_1", "", referrer="https://www.instagram.com/")
    direct = await visit(api, store, "v_1")  # does not take the credit from Instagram
    assert direct["first_visit_id"] == first["visit_id"]
    assert direct["last_touch_visit_id"] == social["visit_id"] == social["last_touch_visit_id"]
    await post(api, store, placed("o_1", "c_1", 5000, attribution={"visitor_id": "v_1"}))
    got = await attribution_of(api, store, "o_1")
    assert got["basis"] == "touches" and got["visitor_id"] == "v_1"
    assert (got["first_touch"]["source"], got["first_touch"]["campaign"]) == ("google", "spring")
    assert (got["last_touch"]["source"], got["last_touch"]["medium"]) == ("instagram", "social")


async def test_a_visitor_becomes_the_customer(api: httpx.AsyncClient, store: StoreKeys) -> None:
    # Anonymous first, then logs in on a later visit: the order (no visitor id) finds both.
    await visit(api, store, "v_2", "?utm_source=tiktok&utm_medium=social&aff=partner-7")
    await visit(api, store, "v_2", "?utm_source=newsletter&utm_medium=email", customer_id="c_2")
    await post(api, store, placed("o_2", "c_2", 3000))
    got = await attribution_of(api, store, "o_2")
    assert got["basis"] == "touches"
    assert got["first_touch"]["source"] == "tiktok"
    assert got["last_touch"]["source"] == "newsletter"
    assert got["program"] == {
        "affiliate_id": "partner-7",
        "referral_code": None,
        "share_token": None,
    }
    # Another customer's order has none of it.
    await post(api, store, placed("o_3", "c_3", 3000))
    other = await attribution_of(api, store, "o_3")
    assert (other["basis"], other["first_touch"], other["last_touch"]) == ("none", None, None)


async def test_the_events_attribution_wins_over_touches(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await visit(api, store, "v_4", "?utm_source=google&utm_medium=cpc")
    given = {"visitor_id": "v_4", "utm_source": "podcast", "fbclid": "AbC", "fbp": "fb.1.1.2"}
    await post(api, store, placed("o_4", "c_4", 1000, attribution=given))
    got = await attribution_of(api, store, "o_4")
    assert got["basis"] == "event"
    assert got["last_touch"]["source"] == "podcast" and got["last_touch"]["fbp"] == "fb.1.1.2"
    assert got["last_touch"]["fbc"].startswith("fb.1.") and got["last_touch"]["fbc"].endswith(
        ".AbC"
    )
    assert got["first_touch"]["source"] == "google"  # the visitor's first touch stays first


async def test_the_message_a_visit_came_from_is_credited(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    message_id = await add_message(sessionmaker, store.id, channel="email", customer_id="c_5")
    await visit(
        api, store, "v_5", f"?utm_source=shopstar&utm_medium=email&utm_content={message_id}"
    )
    await post(api, store, placed("o_5", "c_5", 2000, attribution={"visitor_id": "v_5"}))
    got = await attribution_of(api, store, "o_5")
    assert got["message"] == {"message_id": message_id, "flow": "abandoned_cart"}
    assert got["ad_click"] is None  # no ad was clicked


async def test_the_ad_click_that_brought_the_order_is_credited(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    ad = await ads.create(api, store)
    served = (await ads.ask(api, store, "v_ad")).json()
    token = served["impression_token"]
    assert (await ads.report(api, store, token, "impression")).status_code == 202
    assert (await ads.report(api, store, token, "click")).status_code == 202
    await post(api, store, placed("o_ad", "c_ad", 4500, attribution={"visitor_id": "v_ad"}))
    got = await attribution_of(api, store, "o_ad")
    assert got["ad_click"] == {"campaign_id": ad["id"], "variant_key": served["variant_key"]}
    (row,) = await report(api, store, "ad_campaign")
    assert (row["key"], row["orders"], row["revenue"]) == (ad["id"], 1, {"USD": 4500})


async def test_an_order_is_attributed_once(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await visit(api, store, "v_6", "?utm_source=first")
    await post(api, store, placed("o_6", "c_6", 1000, attribution={"visitor_id": "v_6"}))
    before = await attribution_of(api, store, "o_6")
    await visit(api, store, "v_6", "?utm_source=later")
    # The same order again (a platform's retry with a new event id) changes nothing.
    await post(api, store, placed("o_6", "c_6", 1000, attribution={"utm_source": "retry"}))
    assert await attribution_of(api, store, "o_6") == before


async def test_the_orders_of_one_batch_are_each_attributed(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    # One batch: an order naming a visitor (whose visit had no customer), then a later order of
    # the same customer naming none, an order of a customer with a flow message, and a repeat.
    await visit(api, store, "v_b1", "?utm_source=google&utm_medium=cpc")
    message_id = await add_message(sessionmaker, store.id, channel="email", customer_id="c_b2")
    await post(
        api,
        store,
        placed("o_b1", "c_b1", 1000, attribution={"visitor_id": "v_b1"}),
        placed("o_b2", "c_b1", 2000),
        placed("o_b3", "c_b2", 3000),
        placed("o_b1", "c_b1", 1000, attribution={"utm_source": "retry"}),
    )
    first, second, third = [await attribution_of(api, store, o) for o in ("o_b1", "o_b2", "o_b3")]
    assert (first["basis"], first["last_touch"]["source"]) == ("touches", "google")
    # The first order linked the visitor to the customer: the second finds it.
    assert (second["basis"], second["visitor_id"]) == ("touches", "v_b1")
    assert second["last_touch"]["source"] == "google"
    assert third["message"] == {"message_id": message_id, "flow": "abandoned_cart"}
    assert (third["basis"], first["message"], second["message"]) == ("none", None, None)


async def report(api: httpx.AsyncClient, store: StoreKeys, group_by: str) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date()
    params = {"from": str(today - timedelta(days=1)), "to": str(today), "group_by": group_by}
    response = await api.get("/v1/reports/attribution", params=params, headers=store.auth())
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


async def test_the_report_adds_up_as_worked_out_by_hand(api: httpx.AsyncClient) -> None:
    store = await make_store(api, "Report")
    await visit(api, store, "v_a", "?utm_source=google&utm_medium=cpc&utm_campaign=spring")
    await visit(api, store, "v_a", "?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
    await visit(api, store, "v_b", "?fbclid=XyZ")
    a, b = {"visitor_id": "v_a"}, {"visitor_id": "v_b"}
    await post(
        api,
        store,
        placed("o1", "c_a", 10000, attribution=a),
        placed("o2", "c_b", 5000, "EUR", attribution=b),
        placed("o3", "c_a", 3000, attribution=a),
        placed("o4", "c_b", 7000, attribution=b),
        placed("o5", "c_e", 2500, channel="pos"),
        placed("o6", "c_a", 4000, attribution=a),
    )
    await post(
        api,
        store,
        event("order.refunded", {"order_id": "o3", "amount": 1000}),  # 2000 kept
        event("order.cancelled", {"order_id": "o4"}),  # no sale
        event("order.refunded", {"order_id": "o6"}),  # refunded in full: no sale
    )

    def fig(orders: int, **revenue: int) -> dict[str, Any]:
        return {"orders": orders, "revenue": revenue}

    assert await report(api, store, "source") == [
        {"key": "google", **fig(2, USD=12000), "first_touch": fig(2, USD=12000),
         "last_touch": fig(0)},
        {"key": "newsletter", **fig(2, USD=12000), "first_touch": fig(0),
         "last_touch": fig(2, USD=12000)},
        {"key": "(none)", **fig(1, USD=2500), "first_touch": fig(1, USD=2500),
         "last_touch": fig(1, USD=2500)},
        {"key": "facebook", **fig(1, EUR=5000), "first_touch": fig(1, EUR=5000),
         "last_touch": fig(1, EUR=5000)},
    ]  # fmt: skip
    assert await report(api, store, "campaign") == [
        {"key": "(none)", **fig(2, EUR=5000, USD=2500), "first_touch": fig(2, EUR=5000, USD=2500),
         "last_touch": fig(2, EUR=5000, USD=2500)},
        {"key": "spring", **fig(2, USD=12000), "first_touch": fig(2, USD=12000),
         "last_touch": fig(2, USD=12000)},
    ]  # fmt: skip
    assert await report(api, store, "channel") == [
        {"key": "storefront", **fig(3, USD=12000, EUR=5000), "first_touch": None,
         "last_touch": None},
        {"key": "pos", **fig(1, USD=2500), "first_touch": None, "last_touch": None},
    ]  # fmt: skip
    assert await report(api, store, "flow") == [
        {"key": "(none)", **fig(4, USD=14500, EUR=5000), "first_touch": None, "last_touch": None}
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"visitor_id": "v", "landing_url": "javascript:alert(1)"},
        {"visitor_id": "v", "landing_url": "/p/1"},
        {"visitor_id": "v", "landing_url": SHOP + "/?q=" + "a" * 2100},
        {"visitor_id": "", "landing_url": SHOP},
        {"visitor_id": "v" * 201, "landing_url": SHOP},
        {"landing_url": SHOP},
        {"visitor_id": "v", "landing_url": SHOP, "extra": 1},
    ],
)
async def test_a_bad_visit_is_422(
    api: httpx.AsyncClient, store: StoreKeys, body: dict[str, Any]
) -> None:
    response = await api.post("/v1/storefront/visits", json=body, headers=store.auth("pk"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("invalid_input", "validation_error")


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"from": "2026-02-30"},
        {"from": "2026-03-01T00:00:00"},  # no offset
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2025-01-01", "to": "2026-03-01"},  # over 366 days
        {"group_by": "country"},
    ],
)
async def test_a_bad_report_query_is_422(
    api: httpx.AsyncClient, store: StoreKeys, params: dict[str, str]
) -> None:
    response = await api.get("/v1/reports/attribution", params=params, headers=store.auth())
    assert response.status_code == 422, response.text
    assert "error" in response.json()


async def test_another_stores_order_is_404(api: httpx.AsyncClient, store: StoreKeys) -> None:
    other = await make_store(api, "Other")
    await post(api, other, placed("o_theirs", "c_1", 1000))
    for order_id in ("o_theirs", "o_nowhere"):
        response = await api.get(f"/v1/orders/{order_id}/attribution", headers=store.auth())
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "order_not_found"
    assert (await attribution_of(api, other, "o_theirs"))["basis"] == "none"


async def test_erasure_unlinks_the_customers_visitors(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await visit(api, store, "v_7", "?utm_source=google", customer_id="c_7")
    await post(api, store, event("customer.erased", {"customer_id": "c_7"}))
    await post(api, store, placed("o_7", "c_7", 1000))
    assert (await attribution_of(api, store, "o_7"))["basis"] == "none"
