"""Deciding one flow step: the gate's verdict goes into the message log."""

from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import GateReason, MessageStatus, StepRequest
from services.messaging.gate import GateVerdict, check_send_gate
from services.messaging.log import StepRef, find_step, record_step


def step_ref(req: StepRequest) -> StepRef:
    """The step's row in the message log."""
    return StepRef(
        store_id=req.store_id,
        workflow_id=req.workflow_id,
        run_key=req.run_key,
        flow=req.flow,
        step=req.step,
        channel=req.channel,
        customer_id=req.customer_id,
    )


async def decide_step(session: AsyncSession, req: StepRequest) -> GateVerdict:
    """Run the gate; a "no" is written to the message log."""
    existing = await find_step(session, step_ref(req))
    if existing is not None:
        # A retried activity: the first attempt already decided this step.
        reason = existing.suppression_reason
        return GateVerdict(GateReason(reason) if reason else None)
    verdict = await check_send_gate(session, req)
    if verdict.reason is not None:
        await record_step(
            session, step_ref(req), status=MessageStatus.SUPPRESSED, reason=verdict.reason
        )
    return verdict
