"""Holdout groups end to end: the held-out customer's run goes through every step without
sending (each step `suppressed:holdout`), the treated customer gets the messages, both runs
keep the same timing, and the lift counts each run in its group."""

from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from devstack.fake_providers import FakeProviders
from flow_contract import FlowKind
from relay import Relay
from services.messaging.holdout import in_holdout
from tests.conftest import StoreKeys, event
from tests.workflows.journey import (
    TWO_STEP_FLOW,
    cart,
    deliver,
    enable_flow,
    finish,
    messages,
    order,
    post,
    product,
    timer_durations,
)


def customer(customer_id: str, n: int) -> dict[str, Any]:
    return event(
        "customer.upserted",
        {
            "customer_id": customer_id,
            "email": f"shopper{n}@example.com",
            "phone": f"+1415555010{n}",
            "first_name": "Ana",
            "consent": {"email": True, "sms": True},
        },
    )


def one_of_each(store_id: str) -> tuple[str, str]:
    """A customer the store's cart flow holds out at 50%, and one it treats."""
    ids = [f"c_{n}" for n in range(100)]
    held = next(c for c in ids if in_holdout(store_id, FlowKind.ABANDONED_CART, c, 50))
    treated = next(c for c in ids if not in_holdout(store_id, FlowKind.ABANDONED_CART, c, 50))
    return held, treated


async def test_a_held_out_run_sends_nothing_and_the_treated_one_sends(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sending: Relay,
    temporal_env: WorkflowEnvironment,
    providers: FakeProviders,
) -> None:
    held, treated = one_of_each(store.id)
    await enable_flow(api, store, {**TWO_STEP_FLOW, "holdout_percent": 50})
    await post(
        api,
        store,
        customer(held, 1),
        customer(treated, 2),
        product(),
        cart("k_held", customer_id=held),
        cart("k_treated", customer_id=treated),
    )
    await deliver(sending)
    held_run = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_held")
    treated_run = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_treated")
    assert await finish(temporal_env, held_run) == "suppressed:holdout"
    assert await finish(temporal_env, treated_run) == "sent"

    # The fake SendGrid and Twilio heard of the treated customer only: an email, then an SMS.
    assert providers.email_to("shopper1@example.com") == []
    assert providers.texts_to("+14155550101") == []
    assert len(providers.email_to("shopper2@example.com")) == 1
    assert len(providers.texts_to("+14155550102")) == 1
    log = await messages(api, store)
    rows = {(m["customer_id"], m["step"], m["status"], m["suppression_reason"]) for m in log}
    assert rows == {
        (held, 0, "suppressed", "holdout"),
        (held, 1, "suppressed", "holdout"),
        (treated, 0, "sent", None),
        (treated, 1, "sent", None),
    }
    # The held-out run waited as the treated one did, step by step (to the minute: a step's
    # next wait counts from when it was due, less the moments the step took).
    assert [(k, round(s / 60)) for k, s in await timer_durations(held_run)] == [
        (k, round(s / 60)) for k, s in await timer_durations(treated_run)
    ]

    # The held-out customer orders anyway: the lift counts one run in each group.
    await post(api, store, order("o_1", cart_id=None, customer_id=held))
    response = await api.get("/v1/flows/abandoned_cart/lift", headers=store.auth())
    assert response.status_code == 200, response.text
    lift = response.json()
    assert lift["holdout_percent"] == 50
    assert (lift["treated"]["runs"], lift["treated"]["converted_runs"]) == (1, 0)
    assert (lift["holdout"]["runs"], lift["holdout"]["converted_runs"]) == (1, 1)
    assert lift["holdout"]["revenue"] == [{"currency": "USD", "amount": 4900, "per_run": 4900.0}]
    assert lift["conversion_rate_difference"]["estimate"] == -1.0
