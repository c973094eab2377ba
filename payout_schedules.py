"""Beside the worker: creates (or updates) each store's weekly affiliate payout schedule in
Temporal once the store has an automatic affiliate. The request is a row the api writes in the
affiliate's transaction (`affiliate_payout_schedules`), so an affiliate saved while Temporal is
down gets its schedule when Temporal is back."""

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from flow_contract import ProgramKind
from rounds import Rounds
from services.growth.payouts import claim_unsynced_schedules, mark_schedules_synced
from workflows.affiliate_payouts import AffiliatePayoutWorkflow, PayoutRunInput
from workflows.search_attributes import FLOW_KIND, STORE_ID

log = logging.getLogger("shopstar.payout_schedules")
EVERY = timedelta(days=7)


def schedule_id(store_id: str) -> str:
    return f"affiliate-payouts:{store_id}"


def payout_schedule(store_id: str, task_queue: str) -> Schedule:
    """Weekly, a run of `AffiliatePayoutWorkflow` for the store (Temporal suffixes each run's
    id with its time)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            AffiliatePayoutWorkflow.run,
            PayoutRunInput(store_id),
            id=schedule_id(store_id),
            task_queue=task_queue,
            typed_search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(STORE_ID, store_id),
                    SearchAttributePair(FLOW_KIND, str(ProgramKind.AFFILIATE_PAYOUT)),
                ]
            ),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY)]),
    )


async def ensure_schedule(client: Client, store_id: str, task_queue: str) -> None:
    schedule = payout_schedule(store_id, task_queue)
    try:
        await client.create_schedule(schedule_id(store_id), schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id(store_id)).update(replace)


class PayoutScheduler(Rounds):
    name = "payout schedule round"

    async def dispatch_once(self) -> int:
        """Create or update the schedules asked for; the first failure ends the round."""
        async with self._sessionmaker.begin() as session:
            stores = await claim_unsynced_schedules(session, self._batch_size, self._stores)
            done = []
            for store_id in stores:
                try:
                    await ensure_schedule(self._client, store_id, self._task_queue)
                except Exception:
                    log.warning("payout schedule not synced", extra={"store_id": store_id})
                    break
                done.append(store_id)
            await mark_schedules_synced(session, done)
        return len(done)
