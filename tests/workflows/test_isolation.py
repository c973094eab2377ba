"""One store cannot stall the others: a flow whose runs cannot start, or whose template never
finishes rendering, fails on its own, visibly to its staff, while other stores' messages go out."""

from copy import deepcopy
from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models import Event, FlowVersion
from models.database import SessionMaker
from relay import Relay
from tests.api.test_flow_limits import SLOW
from tests.conftest import StoreKeys, event, make_store
from tests.workflows.journey import (
    TWO_STEP_FLOW,
    cart,
    deliver,
    enable_flow,
    finish,
    messages,
    post,
    product,
    shopper,
)

TOO_LARGE = "grpc: received message after decompression larger than max 4194304"


async def save_directly(
    sessionmaker: SessionMaker, store_id: str, config: dict[str, Any], version: int = 1
) -> None:
    """As a flow saved before the checks existed: straight into the database."""
    async with sessionmaker.begin() as session:
        session.add(
            FlowVersion(store_id=store_id, kind="abandoned_cart", version=version, config=config)
        )


async def relay_failures(api: httpx.AsyncClient, store: StoreKeys) -> list[dict[str, Any]]:
    response = await api.get("/v1/relay-failures", headers=store.auth())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def started(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND
        return False
    return True


async def event_ids(sessionmaker: SessionMaker, store_id: str, kind: str) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Event.event_id)
            .where(Event.store_id == store_id, Event.type == kind)
            .order_by(Event.seq)
        )
        return list(rows)


async def test_a_flow_saved_before_the_bounds_does_not_stop_other_stores(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    poison = deepcopy(TWO_STEP_FLOW)
    poison["steps"][0]["template"]["variables"] = {"big": "x" * 5_000_000}
    await save_directly(sessionmaker, store.id, poison)
    other = await make_store(api, "Other store")
    await enable_flow(api, other)
    await post(api, store, shopper(), product(), cart())
    await post(api, other, shopper(), product(), cart())
    await deliver(relay)
    # The other store's cart is abandoned and its message goes out.
    other_run = temporal_env.client.get_workflow_handle(f"cart:{other.id}:k_1")
    assert await finish(temporal_env, other_run) == "sent"
    assert [m["status"] for m in await messages(api, other)] == ["sent", "sent"]
    # The poisoned store's events wait, with the reason, for its staff to see.
    (failure,) = await relay_failures(api, store)
    assert failure["status"] == "pending" and failure["operation"] == "plan"
    assert "at most 1000 characters" in failure["error"]
    assert (await event_ids(sessionmaker, store.id, "cart.updated"))[0] in failure["event_ids"]
    assert await relay_failures(api, other) == []
    publishable = await api.get("/v1/relay-failures", headers=store.auth("publishable"))
    assert publishable.status_code == 403
    assert not await started(temporal_env.client, f"cart:{store.id}:k_1")
    # Staff save a flow that fits: the events set aside are delivered.
    await enable_flow(api, store)
    assert await relay.retry_set_aside() >= 1
    (failure,) = await relay_failures(api, store)
    assert failure["status"] == "delivered"
    run = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, run) == "sent"


class RefuseStarts(Interceptor):
    """Temporal answering one store's starts as it answered the issue's 5 MB input."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.refusing = True

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        interceptor = self

        class Refusing(OutboundInterceptor):
            async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
                if interceptor.refusing and input.id.startswith(interceptor.prefix):
                    raise RPCError(TOO_LARGE, RPCStatusCode.RESOURCE_EXHAUSTED, b"")
                return await super().start_workflow(input)

        return Refusing(next)


async def test_a_start_that_fails_is_set_aside_retried_and_delivered(
    api: httpx.AsyncClient,
    store: StoreKeys,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    refuse = RefuseStarts(f"cart:{store.id}:")
    config = temporal_env.client.config()
    config["interceptors"] = [refuse, *config["interceptors"]]
    relay = Relay(sessionmaker, Client(**config), task_queue=worker.task_queue, batch_size=500)
    other = await make_store(api, "Other store")
    await enable_flow(api, store)
    await enable_flow(api, other)
    await post(api, store, shopper(), product(), cart(quantity=1))
    await post(api, other, shopper(), product(), cart())
    await deliver(relay)
    other_run = temporal_env.client.get_workflow_handle(f"cart:{other.id}:k_1")
    assert await finish(temporal_env, other_run) == "sent"
    # The failing start is set aside with its error; a later update of that cart waits behind
    # it (a run gets its events in order); no event is left undelivered.
    await post(api, store, cart(quantity=3))
    await deliver(relay)
    (failure,) = await relay_failures(api, store)
    assert failure["status"] == "pending"
    assert failure["operation"] == "start:cart_updated"
    assert TOO_LARGE in failure["error"]
    assert failure["event_ids"] == await event_ids(sessionmaker, store.id, "cart.updated")
    async with sessionmaker() as session:
        undelivered = select(func.count()).where(
            Event.store_id == store.id, Event.delivered_at.is_(None)
        )
        assert await session.scalar(undelivered) == 0
    # Still refused: the retry counts the attempt and waits longer.
    await enable_flow(api, store)  # a save makes the store's set-aside events due now
    assert await relay.retry_set_aside() >= 1
    (failure,) = await relay_failures(api, store)
    assert failure["status"] == "pending" and failure["attempts"] == 2
    # The cause is gone: the run starts with the newest cart.
    refuse.refusing = False
    await enable_flow(api, store)
    await relay.retry_set_aside()
    (failure,) = await relay_failures(api, store)
    assert failure["status"] == "delivered"
    run = temporal_env.client.get_workflow_handle(f"cart:{store.id}:k_1")
    assert await finish(temporal_env, run) == "sent"


async def test_a_template_that_never_finishes_fails_its_step_once(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    bomb = deepcopy(TWO_STEP_FLOW)
    bomb["steps"][0]["template"]["body"] = SLOW  # the api refuses it: saved directly
    await save_directly(sessionmaker, store.id, bomb)
    other = await make_store(api, "Other store")
    await enable_flow(api, other)
    await post(api, store, shopper(), product(), cart())
    await post(api, other, shopper(), product(), cart())
    await deliver(relay)
    runs = [temporal_env.client.get_workflow_handle(f"cart:{s.id}:k_1") for s in (store, other)]
    # Both runs' first step is due at the same time: the other store's message goes out.
    assert await finish(temporal_env, runs[1]) == "sent"
    assert [m["status"] for m in await messages(api, other)] == ["sent", "sent"]
    # The bomb's step failed once, with the reason for staff; the run went on to its next step.
    assert await finish(temporal_env, runs[0]) == "sent"
    failed, sent = await messages(api, store)
    assert (failed["step"], failed["status"], failed["failure_code"]) == (
        0,
        "failed",
        "template_error",
    )
    assert "took longer than" in failed["failure_reason"]
    assert (sent["step"], sent["status"]) == (1, "sent")


async def test_a_flood_from_one_store_delays_another_by_one_batch_at_most(
    api: httpx.AsyncClient,
    store: StoreKeys,
    fresh_outbox: None,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    other = await make_store(api, "Other store")
    flood = [event("customer.upserted", {"customer_id": f"c_{i}"}) for i in range(40)]
    await post(api, store, *flood)
    await post(api, other, shopper())
    small = Relay(sessionmaker, temporal_env.client, task_queue="fairness", batch_size=10)
    assert await small.deliver_batch() == 10
    async with sessionmaker() as session:
        waiting = select(Event.store_id, func.count()).where(Event.delivered_at.is_(None))
        left = dict((await session.execute(waiting.group_by(Event.store_id))).tuples().all())
    # The other store's event went with the first batch; the flood waits its turn.
    assert left == {store.id: 31}
