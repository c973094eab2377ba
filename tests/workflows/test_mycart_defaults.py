"""MyCart's flows as the defaults: per-kind delays, a return_purchase flow that must name a
promo-code rule, a flow turned off stopping its runs in flight (the three flows switching
independently), a WhatsApp step end to end, conversions of cancelled or refunded orders taken out
of the stats, and a code sent by a flow redeemed once at checkout."""

import asyncio
import json
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devstack.fake_providers import FakeProviders, query_of
from relay import Relay
from tests.api.shop import cart as checkout_cart
from tests.api.shop import complete, evaluate
from tests.conftest import StoreKeys, event
from tests.workflows.journey import (
    BROWSE_FLOW,
    DAY,
    HOUR,
    RETURN_FLOW,
    TWO_STEP_FLOW,
    cart,
    deliver,
    enable_flow,
    finish,
    messages,
    order,
    post,
    product,
    put_flow,
    shopper,
    viewed,
    with_code_rule,
)

PHONE = "+14155550123"
ONE_STEP = {**TWO_STEP_FLOW, "steps": TWO_STEP_FLOW["steps"][:1]}


async def stats(api: httpx.AsyncClient, store: StoreKeys) -> list[tuple[int, int, Any]]:
    response = await api.get("/v1/flows/abandoned_cart/stats", headers=store.auth())
    assert response.status_code == 200, response.text
    return [(s["step"], s["conversions"], s["revenue"]) for s in response.json()["steps"]]


async def test_defaults_per_kind_and_a_put_without_a_delay_gets_its_kinds(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    flows = (await api.get("/v1/flows", headers=store.auth())).json()["items"]
    assert [(f["kind"], f["enabled"], f["trigger_delay_seconds"]) for f in flows] == [
        ("abandoned_cart", False, DAY),
        ("browse_reminder", False, 1800),
        ("return_purchase", False, DAY),
    ]
    assert all(
        "promo_code" in f["steps"][0]["template"]["body"]
        for f in flows
        if f["kind"] != "browse_reminder"
    )
    for kind, delay, flow in (
        ("browse_reminder", 1800, BROWSE_FLOW),
        ("abandoned_cart", DAY, TWO_STEP_FLOW),
    ):
        body = {k: v for k, v in flow.items() if k != "trigger_delay_seconds"}
        response = await api.put(f"/v1/flows/{kind}", json=body, headers=store.auth())
        assert response.status_code == 200, response.text
        assert response.json()["trigger_delay_seconds"] == delay
        current = (await api.get(f"/v1/flows/{kind}", headers=store.auth())).json()
        assert current["trigger_delay_seconds"] == delay


async def test_enabling_return_purchase_needs_a_promo_code_rule(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    refused = await api.put("/v1/flows/return_purchase", json=RETURN_FLOW, headers=store.auth())
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["details"][0]["field"] == "steps.0.promo_code_rule_id"
    assert "promo-code rule" in error["message"]
    default = (await api.get("/v1/flows/return_purchase", headers=store.auth())).json()
    enable_default = {k: v for k, v in default.items() if k not in ("kind", "version")}
    enable_default["enabled"] = True
    refused = await api.put("/v1/flows/return_purchase", json=enable_default, headers=store.auth())
    assert refused.status_code == 422
    # Disabled, it may be saved without one; with a rule, it may be enabled.
    off = await api.put(
        "/v1/flows/return_purchase", json={**RETURN_FLOW, "enabled": False}, headers=store.auth()
    )
    assert off.status_code == 200
    coded = await with_code_rule(api, store, RETURN_FLOW)
    on = await api.put("/v1/flows/return_purchase", json=coded, headers=store.auth())
    assert on.status_code == 200, on.text


async def test_turning_a_flow_off_stops_its_runs_in_flight_and_only_that_flow(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store, TWO_STEP_FLOW)
    await put_flow(api, store, "browse_reminder", BROWSE_FLOW)
    await post(api, store, shopper(), shopper("c_2"), shopper("c_3"), product(), cart())
    await deliver(relay)
    await temporal_env.sleep(HOUR + 60)
    for _ in range(200):  # the first step runs on the worker in real time
        if await messages(api, store):
            break
        await asyncio.sleep(0.05)
    await post(api, store, viewed(customer_id="c_2"))  # a browse run in flight
    await deliver(relay)

    # Off, then on again before the cart run's next step: that run still stops.
    await put_flow(api, store, "abandoned_cart", {**TWO_STEP_FLOW, "enabled": False})
    await post(api, store, cart("k_off", customer_id="c_3"))  # no run while off
    await deliver(relay)
    await enable_flow(api, store, TWO_STEP_FLOW)
    stopped = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, stopped) == "suppressed:flow_disabled"
    browse = temporal_env.client.get_workflow_handle(f"browse:{store.id}:c_2")
    assert await finish(temporal_env, browse) == "sent"

    # A run started after it was turned back on goes ahead.
    await post(api, store, cart("k_new", customer_id="c_3"))
    await deliver(relay)
    fresh = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_new")
    assert await finish(temporal_env, fresh) == "sent"

    log = await messages(api, store)
    cart_log = [
        (m["workflow_id"].split(":")[-1], m["step"], m["status"], m["suppression_reason"])
        for m in log
        if m["flow"] == "abandoned_cart"
    ]
    assert cart_log == [
        ("k_1", 0, "sent", None),
        ("k_1", 1, "suppressed", "flow_disabled"),
        ("k_new", 0, "sent", None),
        ("k_new", 1, "sent", None),
    ]
    assert [m["status"] for m in log if m["flow"] == "browse_reminder"] == ["sent"]


async def test_a_whatsapp_step_runs_through_a_flow(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sending: Relay,
    temporal_env: WorkflowEnvironment,
    providers: FakeProviders,
) -> None:
    step = {
        "delay_seconds": 0,
        "channel": "whatsapp",
        "template": {
            "content_sid": "HX" + "a" * 32,
            "variables": {"1": "{{ customer.first_name }}", "2": "{{ link }}"},
        },
    }
    await enable_flow(api, store, {**TWO_STEP_FLOW, "steps": [step]})
    customer = shopper()
    customer["data"]["consent"]["whatsapp"] = True
    await post(api, store, customer, product(), cart())
    await deliver(sending)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "sent"
    (text,) = providers.texts_to(PHONE)
    assert text["To"] == f"whatsapp:{PHONE}" and text["From"] == "whatsapp:+15550002222"
    assert text["ContentSid"] == "HX" + "a" * 32 and "Body" not in text
    variables = json.loads(text["ContentVariables"])
    assert variables["1"] == "Ana" and query_of(variables["2"])["utm_medium"] == "whatsapp"
    (logged,) = await messages(api, store)
    assert (logged["channel"], logged["status"], logged["sender"]) == (
        "whatsapp",
        "sent",
        "+15550002222",
    )


async def test_cancelled_or_refunded_orders_leave_the_flow_stats(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store, ONE_STEP)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await finish(temporal_env, temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1"))
    await post(api, store, order("o_1", cart_id=None), order("o_2", cart_id=None))
    assert await stats(api, store) == [(0, 2, [{"currency": "USD", "amount": 9800}])]
    await post(api, store, event("order.cancelled", {"order_id": "o_1"}))
    assert await stats(api, store) == [(0, 1, [{"currency": "USD", "amount": 4900}])]
    await post(api, store, event("order.refunded", {"order_id": "o_2", "amount": 900}))
    assert await stats(api, store) == [(0, 1, [{"currency": "USD", "amount": 4000}])]
    await post(api, store, event("order.refunded", {"order_id": "o_2"}))
    assert await stats(api, store) == [(0, 0, [])]


async def test_a_code_sent_by_a_flow_is_redeemed_once_at_checkout(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await put_flow(api, store, "return_purchase", await with_code_rule(api, store, RETURN_FLOW))
    await post(api, store, shopper(), product(), order("o_1", cart_id=None))
    await deliver(relay)
    thanks = temporal_env.client.get_workflow_handle(f"return:{store.id}:o_1")
    assert await finish(temporal_env, thanks) == "sent"
    (sent,) = await messages(api, store)
    code = sent["promo_code"]
    assert code and code.startswith("THANKS")

    body = checkout_cart(("p_1", 2, 5000), customer_id="c_1", coupon_codes=[code.lower()])
    priced = await evaluate(api, store, body, "secret")
    assert [(d["source"], d["code"], d["amount"]) for d in priced["discounts"]] == [
        ("coupon", code, 1500)
    ]
    done = await complete(api, store, body, "o_2")
    assert done.status_code == 200, done.text
    assert done.json()["total"] == 8500
    again = await complete(api, store, body, "o_3")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "coupon_exhausted"
    used = await evaluate(api, store, body, "secret")
    assert used["discounts"] == [] and [r["code"] for r in used["rejected_codes"]] == [code]
