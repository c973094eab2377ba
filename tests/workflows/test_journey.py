"""The journey of a one-person store, end to end, each message checked at the fake providers:
a browse reminder 30 minutes after a view, a recovery SMS with a promo code the day after the
cart was abandoned, then the order, then a one-off code for the next purchase."""

from typing import Any

import httpx
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devstack.fake_providers import FakeProviders, query_of
from models import Coupon, Customer
from models.database import SessionMaker
from relay import Relay
from tests.api.shop import promotion
from tests.conftest import StoreKeys
from tests.workflows.journey import (
    BROWSE_FLOW,
    DAY,
    cart,
    deliver,
    finish,
    messages,
    order,
    post,
    product,
    put_flow,
    shopper,
    viewed,
)

EMAIL, PHONE = "ana@example.com", "+14155550123"


async def code_rule(api: httpx.AsyncClient, store: StoreKeys, days: int) -> str:
    promo = await promotion(
        api, store, {"type": "percent_off", "percent": 15, "target": "cart"}, requires_coupon=True
    )
    body = {"promotion_id": promo["id"], "prefix": "COMEBACK", "expires_after_days": days}
    response = await api.post("/v1/promo-code-rules", json=body, headers=store.auth())
    assert response.status_code == 201
    rule_id: str = response.json()["id"]
    return rule_id


async def coupon_of(sessionmaker: SessionMaker, code: str) -> Coupon:
    async with sessionmaker() as session:
        coupon = await session.scalar(select(Coupon).where(Coupon.code == code))
    assert coupon is not None
    return coupon


async def test_one_person_store_journey(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sending: Relay,
    temporal_env: WorkflowEnvironment,
    providers: FakeProviders,
    sessionmaker: SessionMaker,
    worker: Worker,
) -> None:
    recovery_rule, thanks_rule = await code_rule(api, store, 3), await code_rule(api, store, 30)
    sms_step = {
        "delay_seconds": 0,
        "channel": "sms",
        "promo_code_rule_id": recovery_rule,
        "template": {"body": "Your cart misses you: {{ promo_code }} takes 15% off. {{ link }}"},
    }
    thanks_step = {
        "delay_seconds": 0,
        "channel": "email",
        "promo_code_rule_id": thanks_rule,
        "template": {
            "subject": "Thank you, {{ customer.first_name }}",
            "body": "Next time use {{ promo_code }}: {{ link }}",
        },
    }
    no_caps = {"similar_message_window_seconds": 0, "recent_order_window_seconds": 0}
    await put_flow(api, store, "browse_reminder", BROWSE_FLOW)
    await put_flow(
        api,
        store,
        "abandoned_cart",
        {
            "enabled": True,
            "trigger_delay_seconds": DAY,
            "steps": [sms_step],
            "suppression": no_caps,
        },
    )
    await put_flow(
        api,
        store,
        "return_purchase",
        {
            "enabled": True,
            "trigger_delay_seconds": 3600,
            "steps": [thanks_step],
            "suppression": no_caps,
        },
    )

    # Browse: a view, no add-to-cart: a reminder 30 minutes later.
    await post(api, store, shopper(), product(), viewed())
    await deliver(sending)
    browse = temporal_env.client.get_workflow_handle(f"browse:{store.id}:c_1")
    assert await finish(temporal_env, browse) == "sent"
    (reminder,) = providers.email_to(EMAIL)
    assert reminder["subject"] == "Still thinking about Linen shirt?"

    # Add to cart, no order: the next day an SMS with a promo code of her own.
    await post(api, store, cart())
    await deliver(sending)
    recovery = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, recovery) == "sent"
    (text,) = providers.texts_to(PHONE)
    code = text["Body"].split(": ", 1)[1].split(" ", 1)[0]
    assert code.startswith("COMEBACK")
    link = text["Body"].rsplit(" ", 1)[1]
    assert query_of(link)["code"] == code and query_of(link)["utm_medium"] == "sms"
    issued = await coupon_of(sessionmaker, code)
    assert (issued.customer_id, issued.usage_limit) == ("c_1", 1)

    # The order, then a one-off code for the next purchase, by email.
    placed = order()
    placed["data"]["discount_codes"] = [code]
    await post(api, store, placed)
    await deliver(sending)
    thanks = temporal_env.client.get_workflow_handle(f"return:{store.id}:o_1")
    assert await finish(temporal_env, thanks) == "sent"
    reminder_again, thank_you = providers.email_to(EMAIL)
    assert reminder_again == reminder and thank_you["subject"] == "Thank you, Ana"
    next_code = thank_you["content"][0]["value"].split("Next time use ", 1)[1].split(":", 1)[0]
    assert next_code.startswith("COMEBACK") and next_code != code

    log: list[dict[str, Any]] = await messages(api, store)
    assert [(m["flow"], m["channel"], m["status"], m["promo_code"]) for m in log] == [
        ("browse_reminder", "email", "sent", None),
        ("abandoned_cart", "sms", "sent", code),
        ("return_purchase", "email", "sent", next_code),
    ]
    assert sum(providers.message_ids().values()) == 3


async def test_no_code_left_suppresses_the_step(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    rule_id = await code_rule(api, store, 3)
    await api.patch(
        f"/v1/promo-code-rules/{rule_id}", json={"enabled": False}, headers=store.auth()
    )
    step = {
        "delay_seconds": 0,
        "channel": "email",
        "promo_code_rule_id": rule_id,
        "template": {"subject": "Code", "body": "{{ promo_code }}"},
    }
    await put_flow(
        api,
        store,
        "abandoned_cart",
        {"enabled": True, "trigger_delay_seconds": 60, "steps": [step]},
    )
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "suppressed:no_promo_code"
    assert [(m["status"], m["suppression_reason"]) for m in await messages(api, store)] == [
        ("suppressed", "no_promo_code")
    ]


async def test_an_opted_out_number_fails_its_step_once_and_the_next_step_still_goes(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sending: Relay,
    temporal_env: WorkflowEnvironment,
    providers: FakeProviders,
    sessionmaker: SessionMaker,
) -> None:
    providers.opted_out.add(PHONE)
    steps = [
        {"delay_seconds": 0, "channel": "sms", "template": {"body": "Your cart: {{ link }}"}},
        {
            "delay_seconds": DAY,
            "channel": "email",
            "template": {"subject": "Your cart", "body": "{{ link }}"},
        },
    ]
    no_caps = {"similar_message_window_seconds": 0, "recent_order_window_seconds": 0}
    flow = {"enabled": True, "trigger_delay_seconds": 3600, "steps": steps, "suppression": no_caps}
    await put_flow(api, store, "abandoned_cart", flow)
    await post(api, store, shopper(), product(), cart())
    await deliver(sending)
    recovery = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, recovery) == "sent"

    assert len(providers.refused) == 1  # refused for good: not retried
    assert providers.texts_to(PHONE) == [] and len(providers.email_to(EMAIL)) == 1
    log = await messages(api, store)
    assert [(m["channel"], m["status"]) for m in log] == [("sms", "failed"), ("email", "sent")]
    async with sessionmaker() as session:
        customer = await session.get(Customer, (store.id, "c_1"))
    assert customer is not None and customer.consent_sms is False
