"""Attribution and flow statistics: an order after a sent message is credited to the last one
(or to the message whose link was clicked), and the stats add it up per step."""

from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from relay import Relay
from tests.conftest import StoreKeys
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
    shopper,
)


async def stats(api: httpx.AsyncClient, store: StoreKeys, kind: str) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/flows/{kind}/stats", headers=store.auth())
    assert response.status_code == 200, response.text
    steps: list[dict[str, Any]] = response.json()["steps"]
    return steps


async def test_orders_after_a_message_are_attributed_and_counted(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store)
    no_consent = shopper("c_2")
    no_consent["data"]["consent"] = {"email": False, "sms": False}
    await post(
        api, store, shopper(), no_consent, product(), cart("k_1"), cart("k_2", customer_id="c_2")
    )
    await deliver(relay)
    for cart_id in ("k_1", "k_2"):
        await finish(
            temporal_env, temporal_env.client.get_workflow_handle(f"cart:{store.id}:{cart_id}")
        )
    # c_1 got both steps and orders later (last touch: step 1); c_2 got nothing and orders too.
    await post(
        api, store, order("o_1", cart_id=None), order("o_2", cart_id=None, customer_id="c_2")
    )
    steps = await stats(api, store, "abandoned_cart")
    assert [(s["step"], s["sent"], s["suppressed"], s["conversions"]) for s in steps] == [
        (0, 1, {"no_consent": 1}, 0),
        (1, 1, {"no_consent": 1}, 1),
    ]
    assert steps[1]["revenue"] == [{"currency": "USD", "amount": 4900}]


async def test_a_clicked_message_is_credited_over_the_last_one(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await enable_flow(api, store, TWO_STEP_FLOW)
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await finish(temporal_env, temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1"))
    first = next(m for m in await messages(api, store) if m["step"] == 0)
    clicked = order("o_1", cart_id=None)
    clicked["data"]["attribution"] = {"utm_source": "shopstar", "utm_content": first["id"]}
    await post(api, store, clicked)
    steps = await stats(api, store, "abandoned_cart")
    assert [(s["step"], s["conversions"]) for s in steps] == [(0, 1), (1, 0)]


async def test_stats_of_an_unknown_flow_or_a_bad_range(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    assert (await api.get("/v1/flows/nope/stats", headers=store.auth())).status_code == 404
    bad = await api.get(
        "/v1/flows/abandoned_cart/stats",
        params={"from": "2026-11-24T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
        headers=store.auth(),
    )
    assert bad.status_code == 422
    naive = await api.get(
        "/v1/flows/abandoned_cart/stats",
        params={"from": "2026-11-24T00:00:00"},
        headers=store.auth(),
    )
    assert naive.status_code == 422
    empty = await stats(api, store, "browse_reminder")
    assert empty == []
