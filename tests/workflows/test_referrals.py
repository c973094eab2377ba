"""The referral program end to end through the HTTP API, on real PostgreSQL and time-skipping
Temporal: an order carrying a referral code is relayed to its `ReferralRewardWorkflow`, which
records the referral (or rejects it with a reason staff see), holds it, and rewards the
referrer, unless the order was cancelled or refunded first."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from devstack.fake_providers import FakeProviders
from models import Referral
from models.database import SessionMaker
from relay import Relay
from services.growth.referrals import record_referral
from tests.api.shop import promotion
from tests.conftest import StoreKeys, event, make_store
from tests.temporal_runs import result_of
from workflows.search_attributes import CUSTOMER_ID, FLOW_KIND, FLOW_OUTCOME, ORDER_ID


async def send(api: httpx.AsyncClient, store: StoreKeys, *events: dict[str, Any]) -> None:
    response = await api.post("/v1/events", json={"events": list(events)}, headers=store.auth())
    assert response.status_code == 202, response.text


def customer(customer_id: str, **fields: Any) -> dict[str, Any]:
    return event("customer.upserted", {"customer_id": customer_id, **fields})


def order(
    customer_id: str, order_id: str | None = None, *, at: str | None = None, **fields: Any
) -> dict[str, Any]:
    data = {
        "order_id": order_id or f"o_{uuid.uuid4().hex[:10]}",
        "customer_id": customer_id,
        "currency": "USD",
        "items": [{"product_id": "p1", "quantity": 1, "unit_price": 5000}],
        "total": 5000,
        **fields,
    }
    return event("order.placed", data, at=at)


async def program(api: httpx.AsyncClient, store: StoreKeys, **fields: Any) -> dict[str, Any]:
    body = {
        "enabled": True,
        "referrer_reward": {"type": "store_credit", "amount": 500},
        "holding_days": 0,
        **fields,
    }
    response = await api.put("/v1/programs/referral", json=body, headers=store.auth())
    assert response.status_code == 200, response.text
    saved: dict[str, Any] = response.json()
    return saved


async def code_of(api: httpx.AsyncClient, store: StoreKeys, customer_id: str) -> str:
    response = await api.get(f"/v1/customers/{customer_id}/referral", headers=store.auth())
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


async def referrals(api: httpx.AsyncClient, store: StoreKeys, **params: str) -> list[Any]:
    response = await api.get("/v1/referrals", params=params, headers=store.auth())
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def credit(api: httpx.AsyncClient, store: StoreKeys, customer_id: str) -> int:
    response = await api.get(f"/v1/customers/{customer_id}/store-credit", headers=store.auth())
    return sum(b["balance"] for b in response.json().get("balances", []))


async def result(env: WorkflowEnvironment, store: StoreKeys, order_id: str) -> str:
    handle = env.client.get_workflow_handle(f"referral:{store.id}:{order_id}")
    async with env.time_skipping_unlocked():  # type: ignore[attr-defined]
        return str(await result_of(handle))


async def test_a_referees_first_order_rewards_the_referrer_at_once(
    api: httpx.AsyncClient, store: StoreKeys, relay: Relay, temporal_env: WorkflowEnvironment
) -> None:
    promo = await promotion(
        api, store, {"type": "percent_off", "percent": 10, "target": "cart"}, requires_coupon=True
    )
    saved = await program(
        api, store, referee_reward={"type": "coupon", "promotion_id": promo["id"]}
    )
    assert saved["referrer_reward"] == {"type": "store_credit", "amount": 500, "currency": "USD"}
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["referral.rewarded"]}
    assert (await api.post("/v1/webhook-endpoints", json=hook, headers=store.auth())).is_success
    await send(api, store, customer("alice", email="a@example.com"), customer("bob"))
    own_url = {"storefront_base_url": "https://shop.example.com"}
    assert (await api.patch("/v1/settings", json=own_url, headers=store.auth())).is_success
    mine = (await api.get("/v1/customers/alice/referral", headers=store.auth())).json()
    assert mine["link"] == f"https://shop.example.com?ref={mine['code']}"
    assert await code_of(api, store, "alice") == mine["code"]  # the same code, read again

    placed = order("bob", attribution={"referral_code": mine["code"].lower()})
    await send(api, store, placed)
    await relay.deliver_batch()
    order_id = placed["data"]["order_id"]
    assert await result(temporal_env, store, order_id) == "rewarded"

    [referral] = await referrals(api, store, referrer_id="alice")
    assert (referral["referee_id"], referral["order_id"]) == ("bob", order_id)
    assert (referral["status"], referral["reason"], referral["amount"]) == ("rewarded", None, 500)
    assert await credit(api, store, "alice") == 500
    earned = (await api.get("/v1/customers/alice/referral", headers=store.auth())).json()
    assert earned["earned"]["rewards_granted"] == 1
    assert earned["earned"]["store_credit_granted"] == {"USD": 500}
    sent = await api.get(
        "/v1/webhook-deliveries", params={"event": "referral.rewarded"}, headers=store.auth()
    )
    [delivery] = sent.json()["items"]
    detail = await api.get(f"/v1/webhook-deliveries/{delivery['id']}", headers=store.auth())
    data = detail.json()["payload"]["data"]
    assert data["referrer_reward"]["amount"] == 500
    assert data["referee_reward"]["type"] == "coupon"  # the referee's single-use code
    coupons = (await api.get("/v1/coupons", headers=store.auth())).json()["items"]
    assert [(c["customer_id"], c["usage_limit"]) for c in coupons] == [("bob", 1)]
    handle = temporal_env.client.get_workflow_handle(f"referral:{store.id}:{order_id}")
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(FLOW_KIND) == "referral" and attrs.get(FLOW_OUTCOME) == "rewarded"
    assert (attrs.get(CUSTOMER_ID), attrs.get(ORDER_ID)) == ("bob", order_id)


async def test_the_reward_waits_for_the_hold_and_a_cancel_or_refund_voids_it(
    api: httpx.AsyncClient, store: StoreKeys, relay: Relay, temporal_env: WorkflowEnvironment
) -> None:
    await program(api, store, holding_days=14)
    people = [customer(c) for c in ("alice", "bob", "carol", "dan")]
    await send(api, store, *people)
    code = await code_of(api, store, "alice")
    kept, cancelled, refunded = (
        order(who, discount_codes=["SUMMER", code]) for who in ("bob", "carol", "dan")
    )
    await send(api, store, kept, cancelled, refunded)
    await relay.deliver_batch()
    for _ in range(100):
        if len(await referrals(api, store)) == 3:
            break
        await asyncio.sleep(0.1)
    assert {r["status"] for r in await referrals(api, store)} == {"pending"}
    assert await credit(api, store, "alice") == 0  # held

    await send(
        api,
        store,
        event("order.cancelled", {"order_id": cancelled["data"]["order_id"]}),
        event("order.refunded", {"order_id": refunded["data"]["order_id"]}),
    )
    shown = {r["referee_id"]: (r["status"], r["reason"]) for r in await referrals(api, store)}
    assert shown == {
        "bob": ("pending", None),
        "carol": ("voided", "order_cancelled"),
        "dan": ("voided", "order_refunded"),
    }
    assert await result(temporal_env, store, kept["data"]["order_id"]) == "rewarded"
    outcome = await result(temporal_env, store, cancelled["data"]["order_id"])
    assert outcome == "voided:order_cancelled"
    assert await credit(api, store, "alice") == 500  # one reward, for the order kept


async def test_rejections_carry_the_reason_staff_see(
    api: httpx.AsyncClient, store: StoreKeys, relay: Relay, temporal_env: WorkflowEnvironment
) -> None:
    await program(api, store, max_rewards_per_referrer=1)
    await send(
        api,
        store,
        customer("alice", email="Alice@Example.com", phone="+14155550100"),
        customer("alias", email="alice@example.com"),
        customer("phoney", phone="+14155550100"),
        customer("repeat"),
        customer("first"),
        customer("second"),
        order("repeat", at="2026-01-01T00:00:00+00:00"),  # an earlier order, without the code
    )
    code = await code_of(api, store, "alice")
    orders = {
        who: order(who, attribution={"referral_code": code})
        for who in ("alice", "alias", "phoney", "repeat", "first")
    }
    await send(api, store, *orders.values())
    await relay.deliver_batch()
    outcomes = {
        who: await result(temporal_env, store, o["data"]["order_id"]) for who, o in orders.items()
    }
    late = order("second", attribution={"referral_code": code})
    await send(api, store, late)
    await relay.deliver_batch()
    outcomes["second"] = await result(temporal_env, store, late["data"]["order_id"])
    assert outcomes == {
        "alice": "rejected:self_referral",
        "alias": "rejected:self_referral",  # the same email, in another case
        "phoney": "rejected:self_referral",  # the same phone
        "repeat": "rejected:not_first_order",
        "first": "rewarded",
        "second": "rejected:limit_reached",
    }
    listed = {r["referee_id"]: (r["status"], r["reason"]) for r in await referrals(api, store)}
    assert listed["second"] == ("rejected", "limit_reached")
    assert await credit(api, store, "alice") == 500


async def test_fifty_concurrent_orders_of_one_referee_make_one_referral(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    """Fifty orders of the referee placed at the same instant (none is earlier than another),
    their referrals recorded at once: one is pending, the others are `already_referred`."""
    await program(api, store)
    await send(api, store, customer("alice"), customer("bob"))
    code = await code_of(api, store, "alice")
    at = datetime.now(UTC).isoformat()
    orders = [order("bob", f"o{i}", attribution={"referral_code": code}, at=at) for i in range(50)]
    await send(api, store, *orders)

    async def one(order_id: str) -> str:
        async with sessionmaker.begin() as session:
            return str((await record_referral(session, store.id, order_id, code)).status)

    statuses = await asyncio.gather(*(one(f"o{i}") for i in range(50)))
    assert sorted(statuses).count("pending") == 1 and statuses.count("rejected") == 49
    async with sessionmaker() as session:
        rows = (await session.scalars(select(Referral).where(Referral.store_id == store.id))).all()
    assert len(rows) == 50
    assert {r.reason for r in rows if r.status == "rejected"} == {"already_referred"}
    # Asked again (a retried activity), each order answers what it recorded.
    again = await asyncio.gather(*(one(f"o{i}") for i in range(50)))
    assert sorted(again) == sorted(statuses)
    # These orders were never relayed: a later test's relay must not start runs for them.
    await program(api, store, enabled=False)


async def test_erasure_disables_the_code_and_keeps_the_amounts(
    api: httpx.AsyncClient, store: StoreKeys, relay: Relay, temporal_env: WorkflowEnvironment
) -> None:
    await program(api, store)
    await send(api, store, customer("alice", email="a@example.com"), customer("bob"))
    code = await code_of(api, store, "alice")
    first = order("bob", attribution={"referral_code": code})
    await send(api, store, first)
    await relay.deliver_batch()
    assert await result(temporal_env, store, first["data"]["order_id"]) == "rewarded"

    await send(api, store, event("customer.erased", {"customer_id": "alice"}))
    [kept] = await referrals(api, store)
    assert (kept["referrer_id"], kept["status"], kept["amount"]) == (None, "rewarded", 500)
    gone = await api.get("/v1/customers/alice/referral", headers=store.auth())
    assert gone.status_code == 404
    # The code no longer refers anyone: a new customer's order with it starts no run.
    await send(api, store, customer("carol"), order("carol", attribution={"referral_code": code}))
    await relay.deliver_batch()
    assert len(await referrals(api, store)) == 1


async def test_bad_input_names_the_field_and_other_stores_ids_are_404(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    other = await make_store(api, "Other")
    promo = await promotion(
        api, other, {"type": "percent_off", "percent": 10, "target": "cart"}, requires_coupon=True
    )
    foreign = {"type": "coupon", "promotion_id": promo["id"]}
    body = {"enabled": True, "referrer_reward": foreign, "holding_days": 0}
    bad = await api.put("/v1/programs/referral", json=body, headers=store.auth())
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "referrer_reward.promotion_id"
    negative = {**body, "referrer_reward": {"type": "store_credit", "amount": 0}}
    bad = await api.put("/v1/programs/referral", json=negative, headers=store.auth())
    assert bad.status_code == 422 and "amount" in bad.text
    await send(api, other, customer("olga"))
    missing = await api.get("/v1/customers/olga/referral", headers=store.auth())
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    shown = (await api.get("/v1/programs/referral", headers=store.auth())).json()
    assert shown["enabled"] is False and shown["referrer_reward"] is None


async def test_the_referrer_is_told_of_the_reward_once(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sending: Relay,
    providers: FakeProviders,
    temporal_env: WorkflowEnvironment,
) -> None:
    await program(api, store)
    await send(api, store, customer("ann", email="ann@example.com"), customer("ben"))
    placed = order("ben", attribution={"referral_code": await code_of(api, store, "ann")})
    await send(api, store, placed)
    await sending.deliver_batch()
    assert await result(temporal_env, store, placed["data"]["order_id"]) == "rewarded"
    (mail,) = providers.email_to("ann@example.com")
    assert mail["subject"] == "You earned a referral reward"
    assert "5.00 USD of store credit" in mail["content"][0]["value"]
    assert providers.count() == 1  # the referee is told nothing here; nobody twice
