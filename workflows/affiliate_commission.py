"""One order's affiliate commission (`commission:{store}:{order_id}`), started by the relay
when the order's `order.placed` earned an affiliate a commission. It holds the commission for
the affiliate's holding days (0: approved at once), then approves it. Refunds and cancels are
settled in the database as they arrive (services/growth/commissions.py), so the run needs no
signal: a commission voided during the hold ends the run as `voided`."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.affiliates import AffiliateActivities, ApproveRequest
    from workflows.search_attributes import FLOW_OUTCOME


@dataclass
class CommissionInput:
    store_id: str
    order_id: str
    holding_days: int


@workflow.defn
class AffiliateCommissionWorkflow:
    @workflow.run
    async def run(self, inp: CommissionInput) -> str:
        if inp.holding_days > 0:
            await workflow.sleep(timedelta(days=inp.holding_days))
        status = await workflow.execute_activity_method(
            AffiliateActivities.approve_commission,
            ApproveRequest(inp.store_id, inp.order_id),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        workflow.upsert_search_attributes([FLOW_OUTCOME.value_set(status)])
        return status
