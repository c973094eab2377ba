"""The sharing program end to end through the HTTP API, on real PostgreSQL and time-skipping
Temporal: a customer's share link counts unique visitors (not the sharer's own), an order
through it counts as attributed, and once the visits (or an order) qualify the link the reward
outbox starts its `SharingRewardWorkflow`, which grants the reward once."""

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models import ShareLink
from models.database import SessionMaker
from reward_outbox import RewardOutbox, workflow_id
from tests.api.shop import add_products
from tests.conftest import StoreKeys, event, make_store
from tests.temporal_runs import result_of
from tests.workflows.test_referrals import credit, customer, order, send
from workflows.search_attributes import FLOW_KIND, FLOW_OUTCOME

PROGRAM = {
    "enabled": True,
    "reward": {"type": "store_credit", "amount": 300},
    "visits_required": 3,
    "window_days": 7,
    "reward_on_order": False,
}


async def program(api: httpx.AsyncClient, store: StoreKeys, **fields: Any) -> None:
    body = {**PROGRAM, **fields}
    response = await api.put("/v1/programs/sharing", json=body, headers=store.auth())
    assert response.status_code == 200, response.text


async def link(api: httpx.AsyncClient, store: StoreKeys, **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/share-links", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def visit(api: httpx.AsyncClient, store: StoreKeys, token: str, visitor: str) -> Any:
    body = {"token": token, "visitor_id": visitor}
    return await api.post(
        "/v1/storefront/share-visits", json=body, headers=store.auth("publishable")
    )


def outbox(
    env: WorkflowEnvironment, sessionmaker: SessionMaker, worker: Worker, store: StoreKeys
) -> RewardOutbox:
    return RewardOutbox(sessionmaker, env.client, task_queue=worker.task_queue, stores=[store.id])


async def test_unique_visits_qualify_the_link_and_reward_the_sharer_once(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
) -> None:
    await program(api, store)
    await add_products(api, store, ("tent", 20000, ["outdoor"]))
    await send(
        api,
        store,
        customer("sam"),
        customer("vic"),
        order("sam", attribution={"visitor_id": "sams-phone"}),
    )
    made = await link(api, store, customer_id="sam", product_id="tent")
    token = made["token"]
    assert made["url"] == (
        f"https://shop.test/products/tent?share={token}"
        "&utm_source=share&utm_medium=referral&utm_campaign=sharing"
    )

    answers = [
        (await visit(api, store, token, who)).json()
        for who in ("sam", "sams-phone", "v1", "v1", "v2")
    ]
    assert [(a["counted"], a.get("reason")) for a in answers] == [
        (False, "own_visit"),  # the sharer's customer id
        (False, "own_visit"),  # a visitor seen on the sharer's order
        (True, None),
        (False, "already_counted"),
        (True, None),
    ]
    box = outbox(temporal_env, sessionmaker, worker, store)
    assert await box.dispatch_once() == 0  # two visitors: not yet
    assert (await visit(api, store, token, "v3")).json() == {
        "counted": True,
        "visits": 3,
        "reason": None,
    }
    assert await box.dispatch_once() == 1
    handle = temporal_env.client.get_workflow_handle(workflow_id(store.id, made["id"]))
    assert await result_of(handle) == "rewarded"
    assert await credit(api, store, "sam") == 300
    # More visitors (and an attributed order) reward nothing twice.
    assert (await visit(api, store, token, "v4")).json()["visits"] == 4
    await send(api, store, order("vic", attribution={"share_token": token}))
    assert await box.dispatch_once() == 0
    assert await credit(api, store, "sam") == 300
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(FLOW_KIND) == "sharing" and attrs.get(FLOW_OUTCOME) == "rewarded"


async def test_an_attributed_order_qualifies_the_link_with_reward_on_order(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
) -> None:
    await program(api, store, reward_on_order=True, visits_required=100)
    await send(api, store, customer("sam"), customer("vic"))
    made = await link(api, store, customer_id="sam")
    assert made["url"].startswith(f"https://shop.test?share={made['token']}&utm_source=share")
    box = outbox(temporal_env, sessionmaker, worker, store)
    # The sharer's own order through the link does not count.
    await send(api, store, order("sam", attribution={"share_token": made["token"]}))
    assert await box.dispatch_once() == 0
    await send(api, store, order("vic", attribution={"share_token": made["token"]}))
    assert await box.dispatch_once() == 1
    handle = temporal_env.client.get_workflow_handle(workflow_id(store.id, made["id"]))
    assert await result_of(handle) == "rewarded"
    assert await credit(api, store, "sam") == 300


async def test_window_rate_limit_erasure_and_bad_input(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    off = await api.post("/v1/share-links", json={"customer_id": "sam"}, headers=store.auth())
    assert (off.status_code, off.json()["error"]["code"]) == (409, "program_disabled")
    await program(api, store, visits_required=1000)
    await send(api, store, customer("sam"))
    made = await link(api, store, customer_id="sam")

    # One token hit faster than people click: 429 in the error envelope.
    answers = [await visit(api, store, made["token"], f"bot{i}") for i in range(90)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].json()["error"]["code"] == "rate_limited"
    assert answers[0].status_code == 200  # the burst a real link gets is let through

    # Past the window, visits are not counted.
    late = await link(api, store, customer_id="sam")
    async with sessionmaker.begin() as session:
        await session.execute(
            update(ShareLink)
            .where(ShareLink.id == late["id"])
            .values(created_at=ShareLink.created_at - timedelta(days=8))
        )
    answer = (await visit(api, store, late["token"], "v1")).json()
    assert (answer["counted"], answer["reason"]) == (False, "window_closed")

    # Erased: the sharer's links stop counting (404), without the customer's id.
    await send(api, store, event("customer.erased", {"customer_id": "sam"}))
    assert (await visit(api, store, late["token"], "v2")).status_code == 404

    bad = await api.put(
        "/v1/programs/sharing", json={**PROGRAM, "visits_required": 0}, headers=store.auth()
    )
    assert bad.status_code == 422 and "visits_required" in bad.text
    other = await make_store(api, "Other")
    await send(api, other, customer("olga"))
    foreign = await api.post("/v1/share-links", json={"customer_id": "olga"}, headers=store.auth())
    assert foreign.status_code == 404
    gone = await visit(api, other, made["token"], "v9")  # another store's token
    assert gone.status_code == 404
    shown = (await api.get("/v1/programs/sharing", headers=other.auth())).json()
    assert shown["enabled"] is False and shown["reward"] is None
