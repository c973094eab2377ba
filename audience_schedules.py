"""Beside the worker: creates each audience's sync schedule in Temporal (every 6 h, the first
run at once). The request is the audience row itself (`schedule_synced_at` is None until done),
so an audience created while Temporal is down gets its schedule when Temporal is back."""

import contextlib
import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from flow_contract import ProgramKind
from rounds import Rounds
from services.channels.audiences import claim_unscheduled, mark_scheduled
from workflows.audiences import AudienceSyncInput, AudienceSyncWorkflow
from workflows.search_attributes import FLOW_KIND, STORE_ID

log = logging.getLogger("shopstar.audience_schedules")
EVERY = timedelta(hours=6)


def schedule_id(audience_id: str) -> str:
    return f"audience-sync:{audience_id}"


def audience_schedule(store_id: str, audience_id: str, task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            AudienceSyncWorkflow.run,
            AudienceSyncInput(store_id, audience_id),
            id=schedule_id(audience_id),
            task_queue=task_queue,
            typed_search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(STORE_ID, store_id),
                    SearchAttributePair(FLOW_KIND, str(ProgramKind.AUDIENCE_SYNC)),
                ]
            ),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY)]),
    )


async def ensure_schedule(client: Client, store_id: str, audience_id: str, task_queue: str) -> None:
    schedule = audience_schedule(store_id, audience_id, task_queue)
    # Created before the row was marked: nothing to change.
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(schedule_id(audience_id), schedule, trigger_immediately=True)


class AudienceScheduler(Rounds):
    name = "audience schedule round"

    async def dispatch_once(self) -> int:
        """Create the schedules asked for; the first failure ends the round."""
        async with self._sessionmaker.begin() as session:
            audiences = await claim_unscheduled(session, self._batch_size)
            done = []
            for store_id, audience_id in audiences:
                try:
                    await ensure_schedule(self._client, store_id, audience_id, self._task_queue)
                except Exception:
                    log.warning("audience schedule not created", extra={"store_id": store_id})
                    break
                done.append(audience_id)
            await mark_scheduled(session, done)
        return len(done)
