"""One group or flash deal (`deal:{store}:{deal_id}`), started by the worker's outbox when the
deal is created. It sleeps until the deal's start, then until its end, and is woken in between
by one `joins_changed` signal per batch of joins (or by a cancel); each time it asks the
database to settle the deal, which activates it once the minimum is reached, or fails it at the
end. The count lives in PostgreSQL, so the history stays short however hot the deal is."""

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.group_deals import (
        GroupDealActivities,
        NoticeRequest,
        SettledDeal,
        SettleRequest,
    )
    from flow_contract import DealStatus
    from workflows.search_attributes import FLOW_OUTCOME

FINAL = (DealStatus.FAILED, DealStatus.CANCELLED)
# The participants are owed a message once the deal ended one of these ways.
NOTIFIED = (DealStatus.ACTIVATED, *FINAL)
# Far below Temporal's limits; reached only by a deal woken very often for days.
HISTORY_EVENTS_KEPT = 2000


@dataclass
class GroupDealInput:
    store_id: str
    deal_id: str
    # How far the deal's start and end are when the run starts: durations, not times, so they
    # are counted on Temporal's clock, like the timers (as the webhook delivery's window is).
    starts_in_seconds: float
    ends_in_seconds: float


@workflow.defn
class GroupDealWorkflow:
    def __init__(self) -> None:
        self._woken = False

    @workflow.signal
    def joins_changed(self) -> None:
        """Joins were recorded (or the deal was cancelled): settle it again."""
        self._woken = True

    async def _settle(self, inp: GroupDealInput, starts: datetime, ends: datetime) -> SettledDeal:
        now = workflow.now()
        return await workflow.execute_activity_method(
            GroupDealActivities.settle_group_deal,
            SettleRequest(inp.store_id, inp.deal_id, now >= starts, now >= ends),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )

    @workflow.run
    async def run(self, inp: GroupDealInput) -> str:
        begun = workflow.now()
        starts = begun + timedelta(seconds=inp.starts_in_seconds)
        ends = begun + timedelta(seconds=inp.ends_in_seconds)
        while True:
            now = workflow.now()
            deadline = starts if now < starts else ends
            if now < deadline:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._woken, timeout=deadline - now)
            self._woken = False
            state = await self._settle(inp, starts, ends)
            if state.status in NOTIFIED:
                # Late joiners of an activated deal are told at the next wake.
                await workflow.execute_activity_method(
                    GroupDealActivities.send_deal_notices,
                    NoticeRequest(inp.store_id, inp.deal_id),
                    start_to_close_timeout=timedelta(minutes=10),
                    heartbeat_timeout=timedelta(minutes=2),
                    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
                )
            if state.status in FINAL or workflow.now() >= ends:
                workflow.upsert_search_attributes([FLOW_OUTCOME.value_set(state.status)])
                return state.status
            info = workflow.info()
            if info.is_continue_as_new_suggested() or info.get_current_history_length() > (
                HISTORY_EVENTS_KEPT
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                now = workflow.now()
                workflow.continue_as_new(
                    GroupDealInput(
                        inp.store_id,
                        inp.deal_id,
                        max((starts - now).total_seconds(), 0.0),
                        max((ends - now).total_seconds(), 0.0),
                    )
                )
