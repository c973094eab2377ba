"""Affiliates through the HTTP API on real PostgreSQL: who an order is credited to, what
refunds do to the commission, payouts (never twice, also under concurrency), clawbacks,
mark-paid, bad input and another store's ids. The commission runs are in
tests/workflows/test_affiliates.py; here their approval is the service call the run makes."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models.database import SessionMaker
from tests.api.affiliate_shop import (
    approve_now,
    click,
    commissions_of,
    new_affiliate,
    placed,
    post,
    refunded,
)
from tests.conftest import StoreKeys, event, make_store


async def test_an_affiliate_gets_a_code_a_link_and_the_store_currency(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    affiliate = await new_affiliate(api, store, coupon_code="ada10")
    assert affiliate["link"] == f"https://shop.test/?aff={affiliate['code']}"
    assert (affiliate["currency"], affiliate["cookie_days"]) == ("USD", 30)
    assert affiliate["coupon_code"] == "ADA10"
    shown = await api.get(f"/v1/affiliates/{affiliate['id']}", headers=store.auth())
    assert shown.json()["code"] == affiliate["code"]
    listed = (await api.get("/v1/affiliates", headers=store.auth())).json()["items"]
    assert [a["id"] for a in listed] == [affiliate["id"]]
    patched = await api.patch(
        f"/v1/affiliates/{affiliate['id']}",
        json={"commission": {"type": "fixed", "value": 500}, "coupon_code": None},
        headers=store.auth(),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["commission"] == {"type": "fixed", "value": 500}
    assert patched.json()["coupon_code"] is None


async def test_coupon_beats_affiliate_id_beats_the_last_click_in_its_window(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    first = await new_affiliate(api, store, name="First", cookie_days=30)
    last = await new_affiliate(api, store, name="Last", cookie_days=1)
    named = await new_affiliate(api, store, name="Named")
    coupon = await new_affiliate(api, store, name="Coupon", coupon_code="SAVE-COUPON")
    await click(api, store, first["code"], "v_1")
    await click(api, store, last["code"], "v_1")
    soon = datetime.now(UTC) + timedelta(minutes=5)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    await post(
        api,
        store,
        placed("o_click", attribution={"visitor_id": "v_1"}, at=soon.isoformat()),
        # Two days on, "Last"'s one-day window is over: the older click of "First" counts.
        placed("o_window", attribution={"visitor_id": "v_1"}, at=later),
        placed("o_named", attribution={"visitor_id": "v_1", "affiliate_id": named["code"]}),
        placed(
            "o_coupon",
            discount_codes=["save-coupon"],
            attribution={"visitor_id": "v_1", "affiliate_id": named["id"]},
        ),
        placed("o_none", attribution={"visitor_id": "v_unknown"}),
    )
    credited = {
        c["order_id"]: (name, c["source"])
        for name, a in (("first", first), ("last", last), ("named", named), ("coupon", coupon))
        for c in await commissions_of(api, store, a["id"])
    }
    assert credited == {
        "o_click": ("last", "click"),
        "o_window": ("first", "click"),
        "o_named": ("named", "affiliate_id"),
        "o_coupon": ("coupon", "coupon"),
    }


async def test_commission_is_on_the_total_without_shipping_and_refunds_lower_it(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    affiliate = await new_affiliate(api, store, commission={"type": "percent", "value": 1250})
    code = affiliate["code"]
    await post(
        api,
        store,
        placed("o_1", total=10_800, shipping=800, attribution={"affiliate_id": code}),
        placed("o_2", total=5_000, attribution={"affiliate_id": code}),
        placed("o_3", total=5_000, attribution={"affiliate_id": code}),
    )
    await post(api, store, refunded("o_1", 4_000), refunded("o_2"))
    await post(api, store, event("order.cancelled", {"order_id": "o_3"}))
    rows = {c["order_id"]: c for c in await commissions_of(api, store, affiliate["id"])}
    # 12.5% of 10,000 is 1,250; 4,000 of it refunded leaves 60%: 750.
    assert (rows["o_1"]["earned_amount"], rows["o_1"]["amount"]) == (1250, 750)
    assert (rows["o_1"]["status"], rows["o_1"]["currency"]) == ("pending", "USD")
    assert (rows["o_2"]["status"], rows["o_2"]["amount"]) == ("voided", 0)
    assert (rows["o_3"]["status"], rows["o_3"]["amount"]) == ("voided", 0)
    # The same refund event again is a duplicate: nothing lowers twice.
    again = refunded("o_1", 4_000)
    await post(api, store, again, {**again})
    rows = {c["order_id"]: c for c in await commissions_of(api, store, affiliate["id"])}
    assert rows["o_1"]["amount"] == 250


async def payout(api: httpx.AsyncClient, store: StoreKeys, affiliate_id: str) -> httpx.Response:
    return await api.post(f"/v1/affiliates/{affiliate_id}/payouts", headers=store.auth())


async def test_a_manual_payout_takes_the_approved_once_and_a_later_refund_is_clawed_back(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["payout.created"]}
    assert (
        await api.post("/v1/webhook-endpoints", json=hook, headers=store.auth())
    ).status_code == 201
    affiliate = await new_affiliate(api, store, commission={"type": "fixed", "value": 700})
    aid, code = affiliate["id"], affiliate["code"]
    none = await payout(api, store, aid)
    assert (none.status_code, none.json()["error"]["code"]) == (409, "nothing_to_pay")
    await post(
        api,
        store,
        placed("o_1", attribution={"affiliate_id": code}),
        placed("o_2", attribution={"affiliate_id": code}),
        placed("o_3", attribution={"affiliate_id": code}),
    )
    pending_only = await payout(api, store, aid)
    assert pending_only.status_code == 409  # still held: nothing approved yet
    await approve_now(sessionmaker, store, "o_1", "o_2")
    first = await payout(api, store, aid)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["amount"], body["status"], body["trigger"]) == (1400, "pending", "manual")
    assert sorted(line["order_id"] for line in body["lines"]) == ["o_1", "o_2"]
    assert (await payout(api, store, aid)).status_code == 409  # taken once
    rows = {c["order_id"]: c for c in await commissions_of(api, store, aid)}
    assert (rows["o_1"]["status"], rows["o_1"]["payout_id"]) == ("paid", body["id"])

    # o_1 refunded in full after its payout: the next payout takes it off.
    await post(api, store, refunded("o_1"))
    await approve_now(sessionmaker, store, "o_3")
    nothing_left = await payout(api, store, aid)  # 700 owed, 700 clawed back
    assert (nothing_left.status_code, nothing_left.json()["error"]["code"]) == (
        422,
        "below_minimum",
    )
    await post(api, store, placed("o_4", attribution={"affiliate_id": code}))
    await approve_now(sessionmaker, store, "o_4")
    second = (await payout(api, store, aid)).json()
    assert second["amount"] == 700 and len(second["lines"]) == 3
    sent = await api.get(
        "/v1/webhook-deliveries", params={"event": "payout.created"}, headers=store.auth()
    )
    assert len(sent.json()["items"]) == 2


async def test_a_clawback_is_a_negative_line_on_the_next_payout(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    affiliate = await new_affiliate(api, store, commission={"type": "percent", "value": 1000})
    aid, code = affiliate["id"], affiliate["code"]
    await post(api, store, placed("o_1", total=10_000, attribution={"affiliate_id": code}))
    await approve_now(sessionmaker, store, "o_1")
    assert (await payout(api, store, aid)).json()["amount"] == 1000
    await post(api, store, refunded("o_1", 5_000))  # after payout: 500 to claw back
    await post(api, store, placed("o_2", total=30_000, attribution={"affiliate_id": code}))
    await approve_now(sessionmaker, store, "o_2")
    second = await payout(api, store, aid)
    assert second.status_code == 201, second.text
    lines = second.json()["lines"]
    o1 = next(c for c in await commissions_of(api, store, aid) if c["order_id"] == "o_1")
    assert [(line["order_id"], line["amount"], bool(line["adjustment"])) for line in lines] == [
        ("o_2", 3000, False),
        (None, -500, True),
    ]
    assert lines[1]["commission_id"] == o1["id"] and o1["amount"] == 500
    assert second.json()["amount"] == 2500
    hooks = await api.get("/v1/webhook-deliveries", headers=store.auth())
    assert hooks.status_code == 200


async def test_a_payout_below_the_minimum_is_refused_and_mark_paid_is_idempotent(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    affiliate = await new_affiliate(
        api,
        store,
        commission={"type": "fixed", "value": 300},
        payout={"mode": "manual", "minimum": 500},
    )
    aid, code = affiliate["id"], affiliate["code"]
    await post(api, store, placed("o_1", attribution={"affiliate_id": code}))
    await approve_now(sessionmaker, store, "o_1")
    low = await payout(api, store, aid)
    assert (low.status_code, low.json()["error"]["code"]) == (422, "below_minimum")
    assert low.json()["error"]["details"][0]["field"] == "payout.minimum"
    await post(api, store, placed("o_2", attribution={"affiliate_id": code}))
    await approve_now(sessionmaker, store, "o_2")
    made = (await payout(api, store, aid)).json()
    assert made["amount"] == 600
    for _ in range(2):
        paid = await api.post(f"/v1/payouts/{made['id']}/mark-paid", headers=store.auth())
        assert paid.status_code == 200 and paid.json()["status"] == "paid"
    listed = (await api.get("/v1/payouts", params={"status": "paid"}, headers=store.auth())).json()
    assert [p["id"] for p in listed["items"]] == [made["id"]]


async def test_concurrent_payout_requests_never_pay_a_commission_twice(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    affiliate = await new_affiliate(api, store, commission={"type": "fixed", "value": 100})
    aid, code = affiliate["id"], affiliate["code"]
    orders = [f"o_{i}" for i in range(30)]
    await post(api, store, *(placed(o, attribution={"affiliate_id": code}) for o in orders))
    await approve_now(sessionmaker, store, *orders)
    answers = await asyncio.gather(*(payout(api, store, aid) for _ in range(10)))
    made = [r.json() for r in answers if r.status_code == 201]
    assert len(made) == 1 and {r.status_code for r in answers} <= {201, 409}
    assert made[0]["amount"] == 3000 and len(made[0]["lines"]) == 30
    listed = (await api.get("/v1/payouts", headers=store.auth())).json()["items"]
    paid_lines = [line["commission_id"] for p in listed for line in p["lines"]]
    assert len(paid_lines) == len(set(paid_lines)) == 30


async def test_bad_input_names_the_field(api: httpx.AsyncClient, store: StoreKeys) -> None:
    base: dict[str, Any] = {
        "name": "X",
        "email": "x@example.com",
        "commission": {"type": "percent", "value": 1000},
        "payout": {"mode": "manual", "minimum": 0},
    }
    cases = [
        ({**base, "commission": {"type": "percent", "value": 10_001}}, "commission.value"),
        ({**base, "commission": {"type": "share", "value": 1}}, "commission.type"),
        ({**base, "email": "not-an-email"}, "email"),
        ({**base, "cookie_days": -1}, "cookie_days"),
        ({**base, "payout": {"mode": "weekly", "minimum": 0}}, "payout.mode"),
        ({**base, "currency": "usd"}, "currency"),
        ({**base, "coupon_code": "a b"}, "coupon_code"),
    ]
    for body, field in cases:
        response = await api.post("/v1/affiliates", json=body, headers=store.auth())
        assert response.status_code == 422, (field, response.text)
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert any(f.endswith(field) for f in fields), (field, fields)
    await new_affiliate(api, store, coupon_code="TAKEN")
    taken = await api.post(
        "/v1/affiliates", json={**base, "coupon_code": "taken"}, headers=store.auth()
    )
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "coupon_code_taken")
    unknown = await api.post(
        "/v1/storefront/affiliate-clicks",
        json={"code": "NOPE", "visitor_id": "v"},
        headers=store.auth("publishable"),
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "affiliate_not_found")


async def test_another_stores_affiliates_and_payouts_are_not_found(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    other = await make_store(api, "Other")
    affiliate = await new_affiliate(api, other)
    await post(api, other, placed("o_1", attribution={"affiliate_id": affiliate["code"]}))
    await approve_now(sessionmaker, other, "o_1")
    made = (await payout(api, other, affiliate["id"])).json()
    aid = affiliate["id"]
    for method, path in (
        ("GET", f"/v1/affiliates/{aid}"),
        ("PATCH", f"/v1/affiliates/{aid}"),
        ("GET", f"/v1/affiliates/{aid}/commissions"),
        ("POST", f"/v1/affiliates/{aid}/payouts"),
        ("POST", f"/v1/payouts/{made['id']}/mark-paid"),
    ):
        body = {"name": "Mine"} if method == "PATCH" else None
        response = await api.request(method, path, json=body, headers=store.auth())
        assert response.status_code == 404, (path, response.text)
    # A's click with B's code finds no affiliate; B's order id in A credits nobody.
    clicked = await api.post(
        "/v1/storefront/affiliate-clicks",
        json={"code": affiliate["code"], "visitor_id": "v"},
        headers=store.auth("publishable"),
    )
    assert clicked.status_code == 404
    assert (await api.get("/v1/payouts", headers=store.auth())).json()["items"] == []
