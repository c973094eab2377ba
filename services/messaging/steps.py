"""Deciding one flow step: the gate's verdict goes into the message log."""

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import GateReason, MessageStatus, StepRequest
from models.database import SessionStatements
from services.messaging.gate import GateVerdict, StepRows, check_send_gate
from services.messaging.log import StepRef, record_step
from services.messaging.step_facts import read_facts


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
    """Run the gate and write its verdict to the message log: a "no" with its reason, a "go"
    as the pending row the send takes over (with the promo code the gate issued)."""
    ref = step_ref(req)
    facts = await read_facts(SessionStatements(session), req, ref.idempotency_key)
    if (existing := facts.message) is not None:
        # A retried activity: the first attempt already decided this step.
        if existing.suppression_reason:
            return GateVerdict(GateReason(existing.suppression_reason))
        if facts.customer is None:  # customers are never deleted: the first attempt found it
            raise LookupError(f"customer {req.customer_id!r} of a decided step is gone")
        return GateVerdict(rows=StepRows(facts.customer, facts.store, facts.cart, existing))
    verdict = await check_send_gate(session, req, facts)
    if verdict.reason is not None:
        await record_step(session, ref, status=MessageStatus.SUPPRESSED, reason=verdict.reason)
    elif verdict.rows is not None:
        row = await record_step(
            session, ref, status=MessageStatus.PENDING, promo_code=verdict.promo_code
        )
        return replace(verdict, rows=replace(verdict.rows, message=row))
    return verdict
