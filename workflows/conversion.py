"""One order's conversion (or conversion adjustment) for one ad network
(`conversion:{store}:{network}:{order_id}`, an adjustment `...:adjustment:{id}`), started by
the relay. It tries the send with backoff for up to three days: a network that is down delays
the conversion, never loses it, and never holds up checkout or intake (nothing waits on this
run). A permanent refusal ends it at once; when three days pass it is recorded as given up."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.conversions import ConversionActivities, ConversionRequest, GiveUp
    from workflows.search_attributes import FLOW_OUTCOME

RETRY_FOR = timedelta(days=3)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=30),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(hours=1),
)


@dataclass
class ConversionInput:
    store_id: str
    order_id: str
    network: str
    row_id: str


@workflow.defn
class ConversionWorkflow:
    @workflow.run
    async def run(self, inp: ConversionInput) -> str:
        try:
            status = await workflow.execute_activity_method(
                ConversionActivities.send_conversion,
                ConversionRequest(inp.store_id, inp.row_id),
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=RETRY_FOR,
                retry_policy=RETRY,
            )
        except ActivityError:
            status = "refused"
            await workflow.execute_activity_method(
                ConversionActivities.give_up_conversion,
                GiveUp(inp.store_id, inp.row_id, "the network did not take it within 3 days"),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
        workflow.upsert_search_attributes([FLOW_OUTCOME.value_set(status)])
        return status
