"""Audiences end to end: created through the HTTP API, synced by `AudienceSyncWorkflow` (run
directly: the time-skipping test server has no Schedules) to local fakes of Google Customer
Match and Meta custom audiences (tests/api/audience_fakes.py), and removals at once when a
customer withdraws `consent.ads` or is erased, started by the relay from `POST /v1/events`."""

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from audience_schedules import AudienceScheduler, audience_schedule
from models import Audience, AudienceMember, Event
from models.database import SessionMaker
from relay import Relay
from services.channels.audiences import current_members
from tests.api.audience_fakes import FakeNetworks
from tests.conftest import StoreKeys, WorkerWith, event
from workflows.audiences import AudienceSyncInput, AudienceSyncWorkflow

GOOGLE = {
    "customer_id": "123-456-7890",
    "conversion_action_id": "555",
    "developer_token": "dev-token-abcdef",
    "refresh_token": "1//refresh-token-xyz",
    "client_id": "client-id.apps.googleusercontent.com",
    "client_secret": "client-secret-qrst",
}
META = {"pixel_id": "1234567890", "ad_account_id": "998877", "access_token": "EAAB-token-0042"}


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeNetworks:
    networks = FakeNetworks()
    networks.install(httpserver)
    return networks


@pytest.fixture
async def channel_worker(worker_with: WorkerWith, httpserver: HTTPServer) -> AsyncIterator[Worker]:
    """A worker whose network calls all go to the fakes."""
    async with worker_with(channel_base_url_override=httpserver.url_for("").rstrip("/")) as worker:
        yield worker


async def post_events(api: httpx.AsyncClient, store: StoreKeys, *events: dict[str, Any]) -> None:
    response = await api.post("/v1/events", json={"events": list(events)}, headers=store.auth())
    assert response.status_code == 202, response.text


def customer(cid: str, **fields: Any) -> dict[str, Any]:
    return event("customer.upserted", {"customer_id": cid, **fields})


async def connect(api: httpx.AsyncClient, store: StoreKeys) -> None:
    for network, body in (("google_ads", GOOGLE), ("meta", META)):
        response = await api.put(f"/v1/channels/{network}", json=body, headers=store.auth())
        assert response.status_code == 200, response.text


async def create(api: httpx.AsyncClient, store: StoreKeys, rule: dict[str, Any]) -> str:
    body = {"name": "VIPs", "rule": rule, "networks": ["google_ads", "meta"]}
    response = await api.post("/v1/audiences", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def sync(env: WorkflowEnvironment, worker: Worker, store: StoreKeys, audience: str) -> Any:
    return await env.client.execute_workflow(
        AudienceSyncWorkflow.run,
        AudienceSyncInput(store.id, audience),
        id=f"audience-sync-test:{uuid.uuid4().hex[:8]}",
        task_queue=worker.task_queue,
    )


async def removal_run(
    env: WorkflowEnvironment, sessionmaker: SessionMaker, store: StoreKeys, event_id: str
) -> int:
    """The removal run the relay started for this event, awaited to its end."""
    async with sessionmaker() as session:
        row = (
            await session.execute(
                select(Event.seq, Event.data).where(
                    Event.store_id == store.id, Event.event_id == event_id
                )
            )
        ).one()
    run_id = f"audience-removal:{store.id}:{row.data['customer_id']}:{row.seq}"
    result: int = await env.client.get_workflow_handle(run_id).result()
    return result


ANN = {"email": "Ann@Example.com", "phone": "+14155550100"}
VIP_ADS = {"shopper_groups": ["vip"], "consent": {"ads": True}}


async def test_members_are_the_customers_who_match_consent_and_can_be_reached(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    order = {"currency": "USD", "items": [{"product_id": "p", "quantity": 1, "unit_price": 5000}]}
    await post_events(
        api,
        store,
        customer("ann", **ANN, **VIP_ADS),
        customer("bob", email="bob@example.com", shopper_groups=["vip"]),  # no ads consent
        customer("cid", shopper_groups=["vip"], consent={"ads": True}),  # nothing to match on
        customer("dee", phone="+447700900123", consent={"ads": True}),  # not a vip
        customer("eve", email="eve@example.com", **VIP_ADS),
        event("order.placed", {"order_id": "o1", "customer_id": "ann", "total": 5000, **order}),
        event("order.placed", {"order_id": "o2", "customer_id": "dee", "total": 20000, **order}),
    )
    await post_events(api, store, event("customer.erased", {"customer_id": "eve"}))

    async def members(rule: dict[str, Any]) -> list[str]:
        async with sessionmaker() as session:
            return [m.customer_id for m in await current_members(session, store.id, rule)]

    assert await members({"shopper_groups": ["vip"]}) == ["ann"]
    assert await members({"purchased_within_days": 30}) == ["ann", "dee"]
    spent = {"amount": 10000, "currency": "USD"}
    assert await members({"min_total_spent": spent}) == ["dee"]
    assert await members({"min_total_spent": {**spent, "currency": "EUR"}}) == []
    assert await members({"shopper_groups": ["vip"], "purchased_within_days": 30}) == ["ann"]
    assert await members({"cart_abandoned": True}) == []


async def test_a_sync_uploads_the_members_then_only_the_differences(
    api: httpx.AsyncClient,
    store: StoreKeys,
    temporal_env: WorkflowEnvironment,
    channel_worker: Worker,
    fake: FakeNetworks,
) -> None:
    await connect(api, store)
    await post_events(api, store, customer("ann", **ANN, **VIP_ADS))
    audience = await create(api, store, {"shopper_groups": ["vip"]})

    first = await sync(temporal_env, channel_worker, store, audience)
    assert {n: r.status for n, r in first.items()} == {"google_ads": "ok", "meta": "ok"}
    email = sha("ann@example.com")
    # Google: E.164 with its +, one identifier per UserIdentifier; Meta: the digits.
    [google_list] = fake.google.values()
    assert google_list == {f"hashedEmail:{email}", f"hashedPhoneNumber:{sha('+14155550100')}"}
    assert fake.google_operations == [("create", 2)]
    [meta_list] = fake.meta.values()
    assert meta_list == {(email, sha("14155550100"))}

    # Nothing changed: nothing is sent. Then one joins and one leaves the rule.
    await sync(temporal_env, channel_worker, store, audience)
    assert fake.meta_calls == [("POST", 1)]
    await post_events(
        api,
        store,
        customer("bea", email="bea@example.com", **VIP_ADS),
        customer("ann", shopper_groups=["regular"]),
    )
    await sync(temporal_env, channel_worker, store, audience)
    assert fake.meta_calls == [("POST", 1), ("DELETE", 1), ("POST", 1)]
    assert meta_list == {(sha("bea@example.com"), "")}
    assert google_list == {f"hashedEmail:{sha('bea@example.com')}"}
    assert not fake.refused

    shown = (await api.get(f"/v1/audiences/{audience}", headers=store.auth())).json()
    for network in shown["networks"]:
        assert network["last_sync_status"] == "ok"
        assert (network["members"], network["added"], network["removed"]) == (1, 1, 1)
        assert network["remote_id"]
    listed = (await api.get("/v1/audiences", headers=store.auth())).json()["items"]
    assert [a["id"] for a in listed] == [audience]


async def synced_ann(
    api: httpx.AsyncClient,
    store: StoreKeys,
    env: WorkflowEnvironment,
    worker: Worker,
    fake: FakeNetworks,
) -> None:
    await connect(api, store)
    await post_events(api, store, customer("ann", **ANN, **VIP_ADS))
    await sync(env, worker, store, await create(api, store, {"shopper_groups": ["vip"]}))
    assert all(fake.google.values()) and all(fake.meta.values())


async def test_withdrawing_ads_consent_removes_the_customer_from_every_network_at_once(
    api: httpx.AsyncClient,
    store: StoreKeys,
    temporal_env: WorkflowEnvironment,
    channel_worker: Worker,
    sessionmaker: SessionMaker,
    fake: FakeNetworks,
) -> None:
    await synced_ann(api, store, temporal_env, channel_worker, fake)
    withdrawn = customer("ann", consent={"ads": False})
    await post_events(api, store, withdrawn)
    relay = Relay(sessionmaker, temporal_env.client, task_queue=channel_worker.task_queue)
    await relay.deliver_batch()

    assert await removal_run(temporal_env, sessionmaker, store, withdrawn["id"]) == 2
    assert list(fake.google.values()) == [set()]
    assert list(fake.meta.values()) == [set()]
    async with sessionmaker() as session:
        left = await session.scalars(
            select(AudienceMember).where(AudienceMember.store_id == store.id)
        )
        assert list(left) == []


async def test_erasure_removes_the_customer_from_every_audience_even_when_a_network_is_down(
    api: httpx.AsyncClient,
    store: StoreKeys,
    temporal_env: WorkflowEnvironment,
    channel_worker: Worker,
    sessionmaker: SessionMaker,
    fake: FakeNetworks,
) -> None:
    await synced_ann(api, store, temporal_env, channel_worker, fake)
    fake.down = 3  # the first removal calls find the network down
    erased = event("customer.erased", {"customer_id": "ann"})
    await post_events(api, store, erased)
    relay = Relay(sessionmaker, temporal_env.client, task_queue=channel_worker.task_queue)
    await relay.deliver_batch()

    # The contact data is gone from the customers table: the stored hashes are what is sent.
    assert await removal_run(temporal_env, sessionmaker, store, erased["id"]) == 2
    assert fake.down == 0
    assert list(fake.google.values()) == [set()]
    assert list(fake.meta.values()) == [set()]
    channels = (await api.get("/v1/channels", headers=store.auth())).json()["items"]
    assert {c["network"]: c["last_error"] for c in channels if c["state"] != "not_connected"} == {
        "google_ads": None,
        "meta": None,
    }
    async with sessionmaker() as session:
        left = await session.scalars(
            select(AudienceMember).where(AudienceMember.store_id == store.id)
        )
        assert list(left) == []


async def test_meta_gets_at_most_10000_rows_a_call(
    api: httpx.AsyncClient,
    store: StoreKeys,
    temporal_env: WorkflowEnvironment,
    channel_worker: Worker,
    fake: FakeNetworks,
) -> None:
    await connect(api, store)
    many = [customer(f"c{i:05d}", email=f"c{i}@example.com", **VIP_ADS) for i in range(10_001)]
    for i in range(0, len(many), 500):
        await post_events(api, store, *many[i : i + 500])
    body = {"name": "Many", "rule": {"shopper_groups": ["vip"]}, "networks": ["meta"]}
    audience = (await api.post("/v1/audiences", json=body, headers=store.auth())).json()["id"]
    await sync(temporal_env, channel_worker, store, audience)
    assert fake.meta_calls == [("POST", 10_000), ("POST", 1)]
    assert not fake.refused


async def test_a_bad_audience_is_a_422_naming_the_field(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    for body, field in (
        ({"name": "x", "rule": {}, "networks": ["meta"]}, "rule"),
        ({"name": "x", "rule": {"cart_abandoned": True}, "networks": ["tiktok_shop"]}, "networks"),
        ({"name": "x", "rule": {"min_total_spent": {"amount": 5}}, "networks": ["meta"]}, "rule"),
    ):
        response = await api.post("/v1/audiences", json=body, headers=store.auth())
        assert response.status_code == 422, response.text
        assert field in response.text
    missing = await api.get("/v1/audiences/aud_nope", headers=store.auth())
    assert missing.status_code == 404


async def test_an_audience_asks_for_its_six_hourly_sync_schedule(
    api: httpx.AsyncClient,
    store: StoreKeys,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    sessionmaker: SessionMaker,
) -> None:
    """Asked for in the audience's own row, kept asked for until the worker created it. The
    time-skipping test server has no Schedules (so the request stays open here): the run the
    schedule starts is run directly above."""
    audience = await create(api, store, {"cart_abandoned": True})
    scheduler = AudienceScheduler(sessionmaker, temporal_env.client, task_queue=worker.task_queue)
    assert await scheduler.dispatch_once() == 0  # refused by this server: tried again later
    async with sessionmaker() as session:
        row = await session.get(Audience, audience)
        assert row is not None and row.schedule_synced_at is None
    schedule = audience_schedule(store.id, audience, worker.task_queue)
    action = schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "AudienceSyncWorkflow"
    assert action.args == [AudienceSyncInput(store.id, audience)]
    assert action.id == f"audience-sync:{audience}"
    attributes = {p.key.name: p.value for p in action.typed_search_attributes}
    assert attributes == {"StoreId": store.id, "FlowKind": "audience_sync"}
    assert [i.every for i in schedule.spec.intervals] == [timedelta(hours=6)]
