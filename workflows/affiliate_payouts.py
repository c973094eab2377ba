"""A store's weekly affiliate payout round, started by its Temporal Schedule
(`affiliate-payouts:{store}`, created by the worker's payout_schedules.py): every automatic
affiliate whose approved balance reaches its minimum gets a payout."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.affiliates import AffiliateActivities, PayoutRound, PayoutRoundDone
    from workflows.search_attributes import FLOW_OUTCOME


@dataclass
class PayoutRunInput:
    store_id: str


@workflow.defn
class AffiliatePayoutWorkflow:
    @workflow.run
    async def run(self, inp: PayoutRunInput) -> PayoutRoundDone:
        done = await workflow.execute_activity_method(
            AffiliateActivities.create_automatic_payouts,
            PayoutRound(inp.store_id),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        outcome = f"payouts:{done.payouts}" if done.payouts else "nothing_to_pay"
        workflow.upsert_search_attributes([FLOW_OUTCOME.value_set(outcome)])
        return done
