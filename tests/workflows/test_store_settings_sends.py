"""A store's own settings reach what is sent: the fake SendGrid and Twilio see the store's
sender, links point to its storefront with its utm_source, a run in flight uses a change from
its next step on, the store's quiet hours hold a flow that sets none, and its attribution window
decides which orders count."""

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devstack.fake_providers import FakeProviders, query_of
from relay import Relay
from tests.conftest import StoreKeys
from tests.workflows.journey import (
    HOUR,
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
    timer_durations,
)

EMAIL, PHONE = "ana@example.com", "+14155550123"
SERVICE_1, SERVICE_2 = "MG" + "1" * 32, "MG" + "2" * 32
_LINK = re.compile(r"https?://\S+")


async def patch(api: httpx.AsyncClient, store: StoreKeys, **fields: Any) -> None:
    response = await api.patch("/v1/settings", json=fields, headers=store.auth())
    assert response.status_code == 200, response.text


async def wait_for_messages(api: httpx.AsyncClient, store: StoreKeys, count: int) -> None:
    for _ in range(200):  # a due step runs on the worker in real time
        if len(await messages(api, store)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} messages")


async def test_sends_use_the_stores_sender_links_and_utm_source_read_at_send_time(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sending: Relay,
    temporal_env: WorkflowEnvironment,
    providers: FakeProviders,
) -> None:
    await patch(
        api,
        store,
        storefront_base_url="https://www.ana-shop.example",
        email_from={"address": "hello@ana-shop.example", "name": "Ana's Shop"},
        reply_to="care@ana-shop.example",
        sms_from=SERVICE_1,
        utm_source="ana_recovery",
    )
    await enable_flow(api, store, TWO_STEP_FLOW)  # email, then an SMS a day later
    await post(api, store, shopper(), product(), cart())
    await deliver(sending)
    await temporal_env.sleep(HOUR + 60)
    await wait_for_messages(api, store, 1)

    (mail,) = providers.email_to(EMAIL)
    assert mail["from"] == {"email": "hello@ana-shop.example", "name": "Ana's Shop"}
    assert mail["reply_to"] == {"email": "care@ana-shop.example"}
    link = _LINK.findall(mail["content"][0]["value"])[0]
    assert link.startswith("https://www.ana-shop.example/cart/k_1?")
    assert query_of(link)["utm_source"] == "ana_recovery"

    # The run is in flight; the store changes its settings: the next step uses the new ones.
    await patch(
        api, store, storefront_base_url="https://ana.example", sms_from=SERVICE_2, utm_source=None
    )
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "sent"
    (text,) = providers.texts_to(PHONE)
    assert text["MessagingServiceSid"] == SERVICE_2 and "From" not in text
    link = _LINK.findall(text["Body"])[0]
    assert link.startswith("https://ana.example/cart/k_1?")
    assert query_of(link)["utm_source"] == "shopstar"  # null: back to the default
    log = await messages(api, store)
    assert [(m["channel"], m["sender"]) for m in log] == [
        ("email", "hello@ana-shop.example"),
        ("sms", SERVICE_2),
    ]


async def test_without_settings_the_deployments_sender_is_used_and_shown(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sending: Relay,
    temporal_env: WorkflowEnvironment,
    providers: FakeProviders,
) -> None:
    await enable_flow(api, store, {**TWO_STEP_FLOW, "steps": TWO_STEP_FLOW["steps"][:1]})
    await post(api, store, shopper(), product(), cart())
    await deliver(sending)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "sent"
    (mail,) = providers.email_to(EMAIL)
    assert mail["from"] == {"email": "shop@example.com"} and "reply_to" not in mail
    assert _LINK.findall(mail["content"][0]["value"])[0].startswith("https://shop.test/cart/k_1?")
    assert [m["sender"] for m in await messages(api, store)] == ["shop@example.com"]


async def test_the_stores_quiet_hours_hold_a_flow_that_has_none(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    due = (await temporal_env.get_current_time()).astimezone(UTC) + timedelta(seconds=HOUR)
    start, end = (due - timedelta(hours=1)), (due + timedelta(hours=3))
    await patch(
        api,
        store,
        timezone="UTC",
        quiet_hours={"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")},
    )
    await enable_flow(api, store, {**TWO_STEP_FLOW, "steps": TWO_STEP_FLOW["steps"][:1]})
    await post(api, store, shopper(), product(), cart())  # the customer gives no time zone
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, handle) == "sent"
    timers = await timer_durations(handle)
    assert timers[0] == ("started", HOUR)
    assert 3 * HOUR - 120 <= timers[1][1] <= 3 * HOUR  # held until the window ends


async def test_the_stores_attribution_window_decides_what_counts(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await patch(api, store, attribution_window_days=1)
    await enable_flow(api, store, {**TWO_STEP_FLOW, "steps": TWO_STEP_FLOW["steps"][:1]})
    await post(api, store, shopper(), product(), cart())
    await deliver(relay)
    await finish(temporal_env, temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1"))
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    await post(api, store, {**order("o_late", cart_id=None), "occurred_at": later})
    await patch(api, store, attribution_window_days=3)
    await post(api, store, {**order("o_counted", cart_id=None), "occurred_at": later})
    stats = await api.get(
        "/v1/flows/abandoned_cart/stats",
        params={"to": (datetime.now(UTC) + timedelta(days=3)).isoformat()},
        headers=store.auth(),
    )
    assert [(s["step"], s["conversions"]) for s in stats.json()["steps"]] == [(0, 1)]
