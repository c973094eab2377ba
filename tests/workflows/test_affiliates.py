"""Affiliate commission runs and payout rounds on real PostgreSQL and time-skipping Temporal:
the relay starts one run per attributed order, the run holds the commission for the holding
days and approves it (or finds it voided by a refund), and the weekly round pays out."""

import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio.client import ScheduleActionStartWorkflow, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models import PayoutSchedule
from models.database import SessionMaker
from payout_schedules import PayoutScheduler, payout_schedule, schedule_id
from relay import Relay
from tests.api.affiliate_shop import commissions_of, new_affiliate, placed, post, refunded
from tests.conftest import StoreKeys
from tests.workflows.journey import deliver, finish
from workflows.affiliate_payouts import AffiliatePayoutWorkflow, PayoutRunInput
from workflows.search_attributes import FLOW_KIND, FLOW_OUTCOME, ORDER_ID, STORE_ID


def run_id(store: StoreKeys, order_id: str) -> str:
    return f"commission:{store.id}:{order_id}"


async def test_a_commission_is_held_then_approved_and_filed_for_staff(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    affiliate = await new_affiliate(api, store, holding_days=30)
    await post(api, store, placed("o_1", attribution={"affiliate_id": affiliate["code"]}))
    await post(api, store, placed("o_plain"))  # no affiliate: no run
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(run_id(store, "o_1"))
    [row] = await commissions_of(api, store, affiliate["id"])
    assert (row["status"], row["amount"]) == ("pending", 1000)
    assert await finish(temporal_env, handle) == "approved"
    [row] = await commissions_of(api, store, affiliate["id"])
    assert row["status"] == "approved" and row["approved_at"] is not None
    described = await handle.describe()
    attributes = described.typed_search_attributes
    assert attributes.get(STORE_ID) == store.id and attributes.get(ORDER_ID) == "o_1"
    assert attributes.get(FLOW_KIND) == "commission"
    assert attributes.get(FLOW_OUTCOME) == "approved"
    # The run was held: thirty days passed on the run's clock before it approved.
    history = [e async for e in handle.fetch_history_events()]
    assert any(e.HasField("timer_started_event_attributes") for e in history)
    with pytest.raises(Exception):  # noqa: B017 - no run for an order without an affiliate
        await temporal_env.client.get_workflow_handle(run_id(store, "o_plain")).describe()


async def test_zero_holding_days_approves_at_once_and_the_event_starts_one_run(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    affiliate = await new_affiliate(api, store, holding_days=0)
    await post(api, store, placed("o_1", attribution={"affiliate_id": affiliate["id"]}))
    await deliver(relay)
    handle = temporal_env.client.get_workflow_handle(run_id(store, "o_1"))
    assert await finish(temporal_env, handle) == "approved"
    history = [e async for e in handle.fetch_history_events()]
    assert not any(e.HasField("timer_started_event_attributes") for e in history)
    # The same order again (a platform retry with a new event id) credits nobody twice.
    await post(api, store, placed("o_1", attribution={"affiliate_id": affiliate["id"]}))
    await deliver(relay)
    assert len(await commissions_of(api, store, affiliate["id"])) == 1
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_a_full_refund_during_the_hold_voids_it(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    affiliate = await new_affiliate(api, store, holding_days=14)
    await post(api, store, placed("o_1", attribution={"affiliate_id": affiliate["code"]}))
    await deliver(relay)
    await post(api, store, refunded("o_1"))
    handle = temporal_env.client.get_workflow_handle(run_id(store, "o_1"))
    assert await finish(temporal_env, handle) == "voided"
    [row] = await commissions_of(api, store, affiliate["id"])
    assert (row["status"], row["amount"]) == ("voided", 0)
    assert (await handle.describe()).typed_search_attributes.get(FLOW_OUTCOME) == "voided"


async def test_the_weekly_round_pays_automatic_affiliates_at_their_minimum(
    api: httpx.AsyncClient,
    store: StoreKeys,
    relay: Relay,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    auto = {"mode": "automatic", "minimum": 1500}
    rich = await new_affiliate(api, store, name="Rich", payout=auto)
    poor = await new_affiliate(api, store, name="Poor", payout=auto)
    manual = await new_affiliate(api, store, name="Manual")
    await post(
        api,
        store,
        placed("o_1", attribution={"affiliate_id": rich["code"]}),
        placed("o_2", attribution={"affiliate_id": rich["code"]}),
        placed("o_3", attribution={"affiliate_id": poor["code"]}),
        placed("o_4", attribution={"affiliate_id": manual["code"]}),
    )
    await deliver(relay)
    for order_id in ("o_1", "o_2", "o_3", "o_4"):
        handle = temporal_env.client.get_workflow_handle(run_id(store, order_id))
        assert await finish(temporal_env, handle) == "approved"
    # What the store's schedule starts each week.
    done = await temporal_env.client.execute_workflow(
        AffiliatePayoutWorkflow.run,
        PayoutRunInput(store.id),
        id=f"{schedule_id(store.id)}-{uuid.uuid4().hex[:6]}",
        task_queue=worker.task_queue,
    )
    assert (done.payouts, done.amount) == (1, 2000)
    listed = (await api.get("/v1/payouts", headers=store.auth())).json()["items"]
    assert [(p["affiliate_id"], p["amount"], p["trigger"]) for p in listed] == [
        (rich["id"], 2000, "automatic")
    ]
    # The next round finds nothing new to pay.
    again = await temporal_env.client.execute_workflow(
        AffiliatePayoutWorkflow.run,
        PayoutRunInput(store.id),
        id=f"{schedule_id(store.id)}-{uuid.uuid4().hex[:6]}",
        task_queue=worker.task_queue,
        run_timeout=timedelta(minutes=1),
    )
    assert again.payouts == 0


async def test_an_automatic_affiliate_asks_for_its_stores_weekly_schedule(
    api: httpx.AsyncClient,
    store: StoreKeys,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
) -> None:
    """The schedule is asked for in the affiliate's transaction and kept asked for until the
    worker has created it. The time-skipping test server has no schedules (so the request
    stays open here); the round the schedule starts is run directly above."""
    await new_affiliate(api, store, payout={"mode": "manual", "minimum": 0})
    async with sessionmaker() as session:
        assert await session.get(PayoutSchedule, store.id) is None  # manual: no schedule
    await new_affiliate(api, store, payout={"mode": "automatic", "minimum": 0})
    scheduler = PayoutScheduler(
        sessionmaker, temporal_env.client, task_queue=worker.task_queue, stores=[store.id]
    )
    assert await scheduler.dispatch_once() == 0  # refused by this server: tried again later
    async with sessionmaker() as session:
        row = await session.get(PayoutSchedule, store.id)
        assert row is not None and row.synced_at is None
    schedule = payout_schedule(store.id, worker.task_queue)
    action = schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == "AffiliatePayoutWorkflow" and action.args == [
        PayoutRunInput(store.id)
    ]
    assert [i.every for i in schedule.spec.intervals] == [timedelta(days=7)]
