"""The runs of the referral and sharing programs (docs/growth.md), filed in the Temporal UI
under `FlowKind` `referral` | `sharing` with the outcome in `FlowOutcome` (`rewarded`,
`voided:<reason>`, `rejected:<reason>`).

`ReferralRewardWorkflow` (`referral:{store}:{order_id}`), started by the relay for an order that
carries a referral code: the order's referral is recorded (or rejected), held for the program's
holding days on Temporal's clock, then rewarded, unless its order was cancelled or refunded.
`SharingRewardWorkflow` (`sharing:{store}:{link_id}`), started by the reward outbox once a share
link qualified: the sharer's reward is granted through the same reward path."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.program_rewards import ProgramRewardActivities, SettleReferral
    from flow_contract import (
        ReferralRewardInput,
        ReferralStatus,
        RewardSettled,
        SharingRewardInput,
    )
    from workflows.search_attributes import FLOW_OUTCOME

STEP_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))


def _outcome(status: ReferralStatus, reason: str | None) -> str:
    return f"{status}:{reason}" if reason else str(status)


def _close(status: ReferralStatus, reason: str | None) -> str:
    outcome = _outcome(status, reason)
    workflow.upsert_search_attributes([FLOW_OUTCOME.value_set(outcome)])
    return outcome


@workflow.defn
class ReferralRewardWorkflow:
    @workflow.run
    async def run(self, inp: ReferralRewardInput) -> str:
        recorded = await workflow.execute_activity_method(
            ProgramRewardActivities.record_referral,
            inp,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        if recorded.status != ReferralStatus.PENDING:
            return _close(recorded.status, recorded.reason)
        if recorded.hold_seconds > 0:
            await workflow.sleep(timedelta(seconds=recorded.hold_seconds))
        settled: RewardSettled = await workflow.execute_activity_method(
            ProgramRewardActivities.settle_referral,
            SettleReferral(inp.store_id, recorded.referral_id),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        if settled.status == ReferralStatus.REWARDED:
            await workflow.execute_activity_method(
                ProgramRewardActivities.send_referral_notice,
                SettleReferral(inp.store_id, recorded.referral_id),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
        return _close(settled.status, settled.reason)


@workflow.defn
class SharingRewardWorkflow:
    @workflow.run
    async def run(self, inp: SharingRewardInput) -> str:
        settled = await workflow.execute_activity_method(
            ProgramRewardActivities.settle_share_reward,
            inp,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        return _close(settled.status, settled.reason)
