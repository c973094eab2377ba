"""Group deals end to end through the HTTP API, on real PostgreSQL and time-skipping Temporal:
the deal's run is started by the worker's outbox, joins are counted in the database and wake
the run in batches, and the run activates the deal once, or fails it at its end."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from deal_outbox import DealOutbox, workflow_id
from devstack.fake_providers import FakeProviders
from models.database import SessionMaker
from relay import Relay
from services.events.erasure import erase_personal_data
from tests.api.shop import add_products
from tests.conftest import StoreKeys, event
from tests.temporal_runs import result_of
from tests.workflows.journey import post
from workflows.search_attributes import FLOW_KIND, FLOW_OUTCOME

HOUR = timedelta(hours=1)


async def new_deal(api: httpx.AsyncClient, store: StoreKeys, **fields: Any) -> dict[str, Any]:
    await add_products(api, store, ("tent", 20000, ["outdoor"]))
    body = {
        "product_id": "tent",
        "deal_price": 14900,
        "currency": "USD",
        "min_participants": 3,
        "ends_at": (datetime.now(UTC) + HOUR).isoformat(),
        **fields,
    }
    response = await api.post("/v1/group-deals", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    deal: dict[str, Any] = response.json()
    return deal


async def hook(api: httpx.AsyncClient, store: StoreKeys) -> None:
    """An endpoint hearing every deal event (never reached: deliveries are only recorded)."""
    events = ["deal.activated", "deal.failed", "deal.cancelled"]
    body = {"url": "http://127.0.0.1:9/hook", "events": events}
    response = await api.post("/v1/webhook-endpoints", json=body, headers=store.auth())
    assert response.status_code == 201, response.text


async def deliveries(api: httpx.AsyncClient, store: StoreKeys, event: str) -> list[dict[str, Any]]:
    response = await api.get(
        "/v1/webhook-deliveries", params={"event": event}, headers=store.auth()
    )
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def join(api: httpx.AsyncClient, store: StoreKeys, deal_id: str, customer: str) -> Any:
    return await api.post(
        f"/v1/group-deals/{deal_id}/participants",
        json={"customer_id": customer},
        headers=store.auth(),
    )


async def deal_of(api: httpx.AsyncClient, store: StoreKeys, deal_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/group-deals/{deal_id}", headers=store.auth())
    assert response.status_code == 200, response.text
    deal: dict[str, Any] = response.json()
    return deal


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(300):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never saw {what}")


def outbox(
    env: WorkflowEnvironment, sessionmaker: SessionMaker, worker: Worker, store: StoreKeys
) -> DealOutbox:
    """The worker's outbox, scoped to the test's store: other tests' deals are not its business."""
    return DealOutbox(
        sessionmaker, env.client, task_queue=worker.task_queue, poll_seconds=0.05, stores=[store.id]
    )


async def test_the_deal_activates_once_when_the_minimum_is_reached(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
) -> None:
    await hook(api, store)
    deal = await new_deal(api, store, min_participants=3, max_participants=5)
    assert (deal["status"], deal["participants"]) == ("open", 0)
    box = outbox(temporal_env, sessionmaker, worker, store)
    assert await box.dispatch_once() == 1  # the run is started
    handle = temporal_env.client.get_workflow_handle(workflow_id(store.id, deal["id"]))

    for customer in ("c1", "c2"):
        assert (await join(api, store, deal["id"], customer)).status_code == 201
    assert await box.dispatch_once() == 0  # below the minimum: nothing to wake the run for
    for customer in ("c3", "c4"):
        assert (await join(api, store, deal["id"], customer)).status_code == 201
    assert await box.dispatch_once() == 1  # one signal for the batch

    async def activated() -> bool:
        return bool((await deal_of(api, store, deal["id"]))["status"] == "activated")

    await eventually(activated, "the deal activated")
    shown = await deal_of(api, store, deal["id"])
    assert shown["participants"] == 4 and shown["activated_at"] is not None
    # Open for more joins up to the max; another wake settles nothing twice.
    assert (await join(api, store, deal["id"], "c5")).status_code == 201
    full = await join(api, store, deal["id"], "c6")
    assert (full.status_code, full.json()["error"]["code"]) == (409, "deal_closed")
    left = await api.delete(f"/v1/group-deals/{deal['id']}/participants/c1", headers=store.auth())
    assert (left.status_code, left.json()["error"]["code"]) == (409, "deal_activated")

    async with temporal_env.time_skipping_unlocked():  # type: ignore[attr-defined]
        assert await result_of(handle) == "activated"
    sent = await deliveries(api, store, "deal.activated")
    assert len(sent) == 1
    detail = await api.get(f"/v1/webhook-deliveries/{sent[0]['id']}", headers=store.auth())
    data = detail.json()["payload"]["data"]
    assert (data["deal_id"], sorted(data["customer_ids"])) == (deal["id"], ["c1", "c2", "c3", "c4"])
    assert await deliveries(api, store, "deal.failed") == []
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(FLOW_KIND) == "group_deal" and attrs.get(FLOW_OUTCOME) == "activated"


async def test_a_deal_without_its_minimum_fails_at_its_end(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
) -> None:
    await hook(api, store)
    deal = await new_deal(api, store, min_participants=3)
    await outbox(temporal_env, sessionmaker, worker, store).dispatch_once()
    for customer in ("c1", "c2"):
        assert (await join(api, store, deal["id"], customer)).status_code == 201
    handle = temporal_env.client.get_workflow_handle(workflow_id(store.id, deal["id"]))
    async with temporal_env.time_skipping_unlocked():  # type: ignore[attr-defined]
        assert await result_of(handle) == "failed"

    assert (await deal_of(api, store, deal["id"]))["status"] == "failed"
    failed = await deliveries(api, store, "deal.failed")
    assert len(failed) == 1 and await deliveries(api, store, "deal.activated") == []
    late = await join(api, store, deal["id"], "c3")
    assert (late.status_code, late.json()["error"]["code"]) == (409, "deal_closed")
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(FLOW_OUTCOME) == "failed"


async def test_cancel_ends_the_deal_and_its_run(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
) -> None:
    await hook(api, store)
    deal = await new_deal(api, store)
    box = outbox(temporal_env, sessionmaker, worker, store)
    await box.dispatch_once()
    assert (await join(api, store, deal["id"], "c1")).status_code == 201
    cancelled = await api.post(f"/v1/group-deals/{deal['id']}/cancel", headers=store.auth())
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert await box.dispatch_once() == 1  # the run is woken to close
    handle = temporal_env.client.get_workflow_handle(workflow_id(store.id, deal["id"]))
    assert await result_of(handle) == "cancelled"  # no time skipped: it ended at once
    assert len(await deliveries(api, store, "deal.cancelled")) == 1
    again = await api.post(f"/v1/group-deals/{deal['id']}/cancel", headers=store.auth())
    assert again.status_code == 200
    assert len(await deliveries(api, store, "deal.cancelled")) == 1
    late = await join(api, store, deal["id"], "c2")
    assert (late.status_code, late.json()["error"]["code"]) == (409, "deal_closed")


async def test_join_rules_and_leaving_before_activation(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    deal = await new_deal(api, store, min_participants=5)
    assert (await join(api, store, deal["id"], "c1")).status_code == 201
    twice = await join(api, store, deal["id"], "c1")
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_joined")
    path = f"/v1/group-deals/{deal['id']}/participants"
    assert (await api.delete(f"{path}/c1", headers=store.auth())).status_code == 204
    assert (await api.delete(f"{path}/c1", headers=store.auth())).status_code == 404
    assert (await deal_of(api, store, deal["id"]))["participants"] == 0
    assert (await join(api, store, deal["id"], "c1")).status_code == 201  # may join again

    # Not open yet.
    later = datetime.now(UTC) + HOUR
    scheduled = await new_deal(
        api, store, starts_at=later.isoformat(), ends_at=(later + HOUR).isoformat()
    )
    assert scheduled["status"] == "scheduled"
    early = await join(api, store, scheduled["id"], "c1")
    assert (early.status_code, early.json()["error"]["code"]) == (409, "deal_closed")


async def test_storefront_shows_progress_without_customers(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    deal = await new_deal(api, store, min_participants=3, max_participants=10)
    await join(api, store, deal["id"], "shopper-7f3e")
    response = await api.get(
        f"/v1/storefront/group-deals/{deal['id']}", headers=store.auth("publishable")
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    assert (shown["deal_price"], shown["participants"], shown["needed"]) == (14900, 1, 2)
    assert shown["status"] == "open" and "ends_at" in shown
    # No participant is named (an id as long as this cannot turn up inside a random deal id).
    assert "shopper-7f3e" not in response.text
    # The admin paths take a secret key only.
    denied = await api.get(f"/v1/group-deals/{deal['id']}", headers=store.auth("publishable"))
    assert denied.status_code == 403


async def test_bad_deals_get_a_422_naming_the_field_and_another_store_a_404(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await add_products(api, store, ("tent", 20000, ["outdoor"]))
    now = datetime.now(UTC)
    good: dict[str, Any] = {
        "product_id": "tent",
        "deal_price": 100,
        "currency": "USD",
        "min_participants": 2,
        "ends_at": (now + HOUR).isoformat(),
    }
    cases: dict[str, dict[str, Any]] = {
        "ends_at": {"ends_at": (now - HOUR).isoformat()},
        "max_participants": {"max_participants": 1},
        "min_participants": {"min_participants": 0},
        "deal_price": {"deal_price": -1},
        "product_id": {"product_id": "nope"},
    }
    for field, change in cases.items():
        response = await api.post("/v1/group-deals", json=good | change, headers=store.auth())
        assert response.status_code == 422, (field, response.text)
        assert field in response.text, (field, response.text)
    created = await api.post("/v1/group-deals", json=good, headers=store.auth())
    assert created.status_code == 201
    other = await api.post(
        "/v1/stores",
        json={"name": "Other", "currency": "USD", "timezone": "UTC"},
        headers={"Authorization": "Bearer test-operator-token"},
    )
    secret = next(k["key"] for k in other.json()["keys"] if k["kind"] == "secret")
    theirs = {"Authorization": f"Bearer {secret}"}
    deal_id = created.json()["id"]
    assert (await api.get(f"/v1/group-deals/{deal_id}", headers=theirs)).status_code == 404
    joined = await api.post(
        f"/v1/group-deals/{deal_id}/participants", json={"customer_id": "x"}, headers=theirs
    )
    assert joined.status_code == 404


async def test_erasure_removes_the_customer_and_keeps_the_count(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    deal = await new_deal(api, store)
    await join(api, store, deal["id"], "c1")
    async with sessionmaker.begin() as session:
        await erase_personal_data(session, store.id, "c1")
    assert (await deal_of(api, store, deal["id"]))["participants"] == 1
    # The id is gone: the same customer id is no longer a participant.
    path = f"/v1/group-deals/{deal['id']}/participants/c1"
    assert (await api.delete(path, headers=store.auth())).status_code == 404


async def test_300_concurrent_joins_fill_the_deal_to_its_max_and_activate_it_once(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
) -> None:
    await hook(api, store)
    deal = await new_deal(api, store, min_participants=10, max_participants=200)
    box = outbox(temporal_env, sessionmaker, worker, store)
    await box.dispatch_once()
    dispatching = asyncio.create_task(box.run())  # wakes the run while the joins go on
    customers = [f"c{i}" for i in range(300)]
    answers: list[tuple[int, str]] = []

    async def client(mine: list[str]) -> None:
        for customer in mine:
            response = await join(api, store, deal["id"], customer)
            code = response.json()["error"]["code"] if response.status_code != 201 else ""
            answers.append((response.status_code, code))

    try:
        await asyncio.gather(*(client(customers[i::30]) for i in range(30)))

        async def activated() -> bool:
            return bool((await deal_of(api, store, deal["id"]))["status"] == "activated")

        await eventually(activated, "the deal activated")
    finally:
        dispatching.cancel()
    assert answers.count((201, "")) == 200
    assert answers.count((409, "deal_closed")) == 100
    assert (await deal_of(api, store, deal["id"]))["participants"] == 200
    assert len(await deliveries(api, store, "deal.activated")) == 1
    handle = temporal_env.client.get_workflow_handle(workflow_id(store.id, deal["id"]))
    description = await handle.describe()
    assert description.status is WorkflowExecutionStatus.RUNNING  # open until its end
    history = await handle.fetch_history()
    signals = [
        e for e in history.events if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert len(signals) < 50  # batched: one per outbox round, never one per join (200)


async def test_participants_are_told_once_on_their_channel_when_the_deal_ends(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    temporal_env: WorkflowEnvironment,
    providers: FakeProviders,
    sending: Relay,
) -> None:
    await post(
        api,
        store,
        event("customer.upserted", {"customer_id": "c1", "email": "ana@example.com"}),
        event("customer.upserted", {"customer_id": "c2", "phone": "+14155550101"}),
        event("customer.upserted", {"customer_id": "c3"}),  # no way to reach them
    )
    deal = await new_deal(api, store, min_participants=2)
    box = DealOutbox(
        sessionmaker, temporal_env.client, task_queue=sending._task_queue, stores=[store.id]
    )
    await box.dispatch_once()
    for customer in ("c1", "c2", "c3"):
        assert (await join(api, store, deal["id"], customer)).status_code == 201
    await box.dispatch_once()

    async def told() -> bool:
        return providers.count() == 2

    await eventually(told, "both reachable participants told")
    (mail,) = providers.email_to("ana@example.com")
    assert mail["subject"] == "Your group deal is on"
    assert "149.00 USD" in mail["content"][0]["value"]
    (text,) = providers.texts_to("+14155550101")
    assert "reached its 2 participants" in text["Body"]

    # A late joiner is told at the next wake; nobody is told twice.
    await post(api, store, event("customer.upserted", {"customer_id": "c4", "email": "b@x.io"}))
    assert (await join(api, store, deal["id"], "c4")).status_code == 201
    await box.dispatch_once()

    async def late() -> bool:
        return providers.count() == 3

    await eventually(late, "the late joiner told")
    await box.dispatch_once()  # nothing new: nobody is told again
    await asyncio.sleep(0.5)
    assert providers.count() == 3
    assert len(providers.email_to("ana@example.com")) == 1
