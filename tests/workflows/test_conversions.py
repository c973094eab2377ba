"""Order conversions for Google Ads and Meta, end to end: events through the HTTP API, the
relay, a conversion run on time-skipping Temporal, and local fakes of the networks that check
what the networks check and answer as they do (tests/workflows/ad_network_fakes.py)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio.testing import WorkflowEnvironment

from models.database import SessionMaker
from relay import Relay
from tests.api.affiliate_shop import placed, post, refunded
from tests.conftest import StoreKeys, WorkerWith, event, make_store
from tests.workflows.ad_network_fakes import Fakes, meta_expired_token
from tests.workflows.journey import deliver, finish
from workflows.search_attributes import FLOW_KIND, FLOW_OUTCOME, ORDER_ID, STORE_ID

GOOGLE = {
    "customer_id": "123-456-7890",
    "conversion_action_id": "555",
    "developer_token": "dev-token-abcdef",
    "refresh_token": "1//refresh-token-xyz",
    "client_id": "client-id.apps.googleusercontent.com",
    "client_secret": "client-secret-qrst",
}
META = {"pixel_id": "1234567890", "ad_account_id": "998877", "access_token": "EAAB-token-0042"}
# REFERENCE.md's vectors: the email trimmed and lowercased, the phone digits only for Meta.
EMAIL_HASH = "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345"
PHONE_HASH = "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383"


@pytest.fixture
async def networks(
    httpserver: HTTPServer, sessionmaker: SessionMaker, worker_with: WorkerWith
) -> AsyncIterator[tuple[Fakes, Relay]]:
    """The fakes, and a worker that sends every network call to them, with its relay."""
    fakes = Fakes()
    fakes.install(httpserver)
    async with worker_with(channel_base_url_override=httpserver.url_for("")) as worker:
        yield fakes, Relay(sessionmaker, worker.client, task_queue=worker.task_queue)


async def connect(api: httpx.AsyncClient, store: StoreKeys, network: str) -> None:
    body = GOOGLE if network == "google_ads" else META
    saved = await api.put(f"/v1/channels/{network}", json=body, headers=store.auth())
    assert saved.status_code == 200, saved.text


async def conversions(
    api: httpx.AsyncClient, store: StoreKeys, order_id: str
) -> list[dict[str, Any]]:
    got = await api.get("/v1/conversions", params={"order_id": order_id}, headers=store.auth())
    assert got.status_code == 200, got.text
    items: list[dict[str, Any]] = got.json()["items"]
    return items


async def run_to_end(env: WorkflowEnvironment, store: StoreKeys, network: str, order: str) -> Any:
    handle = env.client.get_workflow_handle(f"conversion:{store.id}:{network}:{order}")
    return await finish(env, handle)


async def test_a_google_click_conversion_is_sent_once_in_googles_format(
    api: httpx.AsyncClient,
    store: StoreKeys,
    networks: tuple[Fakes, Relay],
    temporal_env: WorkflowEnvironment,
) -> None:
    fakes, relay = networks
    await connect(api, store, "google_ads")
    await post(api, store, placed("o_1", total=12_345, attribution={"gclid": "Cj0KCQ-click"}))
    await post(api, store, placed("o_plain"))  # no click id: nothing to send
    await deliver(relay)
    assert await run_to_end(temporal_env, store, "google_ads", "o_1") == "sent"
    [sent] = fakes.conversions
    assert sent["gclid"] == "Cj0KCQ-click" and "gbraid" not in sent and "wbraid" not in sent
    assert sent["conversionAction"] == "customers/1234567890/conversionActions/555"
    assert sent["conversionValue"] == 123.45 and sent["currencyCode"] == "USD"
    assert sent["orderId"] == "o_1"
    [row] = await conversions(api, store, "o_1")
    assert (row["network"], row["kind"], row["status"], row["attempts"]) == (
        "google_ads",
        "conversion",
        "sent",
        1,
    )
    assert GOOGLE["developer_token"] not in str(row)
    assert await conversions(api, store, "o_plain") == []
    assert await conversions(api, await make_store(api, "Other"), "o_1") == []
    handle = temporal_env.client.get_workflow_handle(f"conversion:{store.id}:google_ads:o_1")
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(STORE_ID) == store.id and attributes.get(ORDER_ID) == "o_1"
    assert (attributes.get(FLOW_KIND), attributes.get(FLOW_OUTCOME)) == ("conversion", "sent")
    channels = (await api.get("/v1/channels", headers=store.auth())).json()["items"]
    assert {c["network"]: c["state"] for c in channels}["google_ads"] == "connected"


async def test_a_duplicate_is_recorded_with_googles_reason_and_not_retried(
    api: httpx.AsyncClient,
    store: StoreKeys,
    networks: tuple[Fakes, Relay],
    temporal_env: WorkflowEnvironment,
) -> None:
    fakes, relay = networks
    fakes.uploaded_orders.add("o_dup")  # Google has it already (uploaded by another tool)
    await connect(api, store, "google_ads")
    await post(api, store, placed("o_dup", attribution={"gbraid": "gb-123"}))
    await deliver(relay)
    assert await run_to_end(temporal_env, store, "google_ads", "o_dup") == "refused"
    assert fakes.google_calls == 1
    [row] = await conversions(api, store, "o_dup")
    assert (row["status"], row["attempts"]) == ("refused", 1)
    assert row["response_code"] == "CLICK_CONVERSION_ALREADY_EXISTS"


async def test_a_rate_limited_upload_is_retried_then_sent(
    api: httpx.AsyncClient,
    store: StoreKeys,
    networks: tuple[Fakes, Relay],
    temporal_env: WorkflowEnvironment,
) -> None:
    fakes, relay = networks
    fakes.google_first = [429, 503]
    await connect(api, store, "google_ads")
    await post(api, store, placed("o_busy", attribution={"wbraid": "wb-1"}))
    await deliver(relay)
    assert await run_to_end(temporal_env, store, "google_ads", "o_busy") == "sent"
    [row] = await conversions(api, store, "o_busy")
    assert (row["status"], row["attempts"]) == ("sent", 3)
    assert [c["wbraid"] for c in fakes.conversions] == ["wb-1"]


async def customer(api: httpx.AsyncClient, store: StoreKeys, ads: bool) -> None:
    data = {
        "customer_id": "c_1",
        "email": "Person@Example.com",
        "phone": "+448444124653",
        "consent": {"ads": ads, "email": True},
    }
    await post(api, store, event("customer.upserted", data))


async def test_a_meta_purchase_carries_hashed_contact_data_with_consent(
    api: httpx.AsyncClient,
    store: StoreKeys,
    networks: tuple[Fakes, Relay],
    temporal_env: WorkflowEnvironment,
) -> None:
    fakes, relay = networks
    await connect(api, store, "meta")
    await customer(api, store, ads=True)
    click = {"fbclid": "IwAR-Case", "fbp": "fb.1.1700000000000.42"}
    await post(api, store, placed("o_m", total=2500, attribution=click))
    await deliver(relay)
    assert await run_to_end(temporal_env, store, "meta", "o_m") == "sent"
    [sent] = fakes.meta_events
    assert (sent["event_name"], sent["event_id"], sent["action_source"]) == (
        "Purchase",
        "o_m",
        "website",
    )
    user = sent["user_data"]
    assert user["em"] == [EMAIL_HASH] and user["ph"] == [PHONE_HASH]
    assert user["fbp"] == "fb.1.1700000000000.42" and user["fbc"].endswith(".IwAR-Case")
    assert sent["custom_data"]["currency"] == "USD" and sent["custom_data"]["value"] == 25.0
    [row] = await conversions(api, store, "o_m")
    assert row["status"] == "sent" and "@" not in str(row)


async def test_without_consent_meta_gets_the_click_id_only(
    api: httpx.AsyncClient,
    store: StoreKeys,
    networks: tuple[Fakes, Relay],
    temporal_env: WorkflowEnvironment,
) -> None:
    fakes, relay = networks
    await connect(api, store, "meta")
    await customer(api, store, ads=False)
    await post(api, store, placed("o_click", attribution={"fbclid": "IwAR-x"}))
    await post(api, store, placed("o_none"))  # no click, no consent: nothing for Meta
    await deliver(relay)
    assert await run_to_end(temporal_env, store, "meta", "o_click") == "sent"
    [sent] = fakes.meta_events
    assert "em" not in sent["user_data"] and "ph" not in sent["user_data"]
    assert sent["user_data"]["fbc"].endswith(".IwAR-x")
    assert await conversions(api, store, "o_none") == []


async def test_an_expired_meta_token_shows_on_the_channel_and_is_retried(
    api: httpx.AsyncClient,
    store: StoreKeys,
    networks: tuple[Fakes, Relay],
    temporal_env: WorkflowEnvironment,
) -> None:
    fakes, relay = networks
    fakes.meta_first = [meta_expired_token]
    await connect(api, store, "meta")
    await post(api, store, placed("o_tok", attribution={"fbclid": "IwAR-t"}))
    await deliver(relay)
    for _ in range(200):  # the first attempt runs at once; its retry waits for the clock
        [row] = await conversions(api, store, "o_tok")
        if row["attempts"]:
            break
        await asyncio.sleep(0.05)
    assert (row["status"], row["response_code"]) == ("retrying", "190/463")
    channels = (await api.get("/v1/channels", headers=store.auth())).json()["items"]
    [meta] = [c for c in channels if c["network"] == "meta"]
    assert meta["state"] == "error" and "access token" in meta["last_error"]
    assert await run_to_end(temporal_env, store, "meta", "o_tok") == "sent"
    [row] = await conversions(api, store, "o_tok")
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_a_purchase_older_than_seven_days_is_refused_without_sending(
    api: httpx.AsyncClient,
    store: StoreKeys,
    networks: tuple[Fakes, Relay],
    temporal_env: WorkflowEnvironment,
) -> None:
    fakes, relay = networks
    await connect(api, store, "meta")
    old = (datetime.now(UTC) - timedelta(days=8)).isoformat()
    await post(api, store, placed("o_old", attribution={"fbclid": "IwAR-o"}, at=old))
    await deliver(relay)
    assert await run_to_end(temporal_env, store, "meta", "o_old") == "refused"
    assert fakes.meta_events == []
    [row] = await conversions(api, store, "o_old")
    assert row["status"] == "refused" and "7 days" in row["last_response"]


async def test_refunds_restate_then_retract_the_google_conversion_once_each(
    api: httpx.AsyncClient,
    store: StoreKeys,
    networks: tuple[Fakes, Relay],
    temporal_env: WorkflowEnvironment,
) -> None:
    fakes, relay = networks
    await connect(api, store, "google_ads")
    await post(api, store, placed("o_r", total=10_000, attribution={"gclid": "g-r"}))
    await deliver(relay)
    assert await run_to_end(temporal_env, store, "google_ads", "o_r") == "sent"
    partial = refunded("o_r", 4000)
    await post(api, store, partial, partial)  # the same event twice counts once
    await deliver(relay)
    await post(api, store, event("order.cancelled", {"order_id": "o_r"}))
    await deliver(relay)
    rows = await conversions(api, store, "o_r")
    for row in rows[1:]:
        handle = temporal_env.client.get_workflow_handle(
            f"conversion:{store.id}:google_ads:o_r:adjustment:{row['id']}"
        )
        assert await finish(temporal_env, handle) == "sent"
    await post(api, store, refunded("o_r"))  # after the retraction: nothing more to adjust
    await deliver(relay)
    rows = await conversions(api, store, "o_r")
    assert [(r["kind"], r["adjustment"], r["status"]) for r in rows] == [
        ("conversion", None, "sent"),
        ("adjustment", "restatement", "sent"),
        ("adjustment", "retraction", "sent"),
    ]
    assert [a["adjustmentType"] for a in fakes.adjustments] == ["RESTATEMENT", "RETRACTION"]
    assert fakes.adjustments[0]["restatementValue"] == {
        "adjustedValue": 60.0,
        "currencyCode": "USD",
    }
    assert {a["orderId"] for a in fakes.adjustments} == {"o_r"}
