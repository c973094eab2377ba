"""Deciding one flow step: the gate's verdict goes into the message log."""

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import GateReason, MessageStatus, StepRequest
from models import Cart, Customer, Store
from services.messaging.gate import GateVerdict, StepRows, check_send_gate
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
    """Run the gate and write its verdict to the message log: a "no" with its reason, a "go"
    as the pending row the send takes over (with the promo code the gate issued)."""
    existing = await find_step(session, step_ref(req))
    if existing is not None:
        # A retried activity: the first attempt already decided this step.
        if existing.suppression_reason:
            return GateVerdict(GateReason(existing.suppression_reason))
        return GateVerdict(rows=replace(await _rows_again(session, req), message=existing))
    verdict = await check_send_gate(session, req)
    if verdict.reason is not None:
        await record_step(
            session, step_ref(req), status=MessageStatus.SUPPRESSED, reason=verdict.reason
        )
    elif verdict.rows is not None:
        row = await record_step(
            session, step_ref(req), status=MessageStatus.PENDING, promo_code=verdict.promo_code
        )
        return replace(verdict, rows=replace(verdict.rows, message=row))
    return verdict


async def _rows_again(session: AsyncSession, req: StepRequest) -> StepRows:
    """The rows a decided step renders from, read again for its retry (not decided again)."""
    customer = await session.get(Customer, (req.store_id, req.customer_id))
    if customer is None:  # customers are never deleted: the first attempt found this one
        raise LookupError(f"customer {req.customer_id!r} of a decided step is gone")
    cart = await session.get(Cart, (req.store_id, req.cart_id)) if req.cart_id else None
    return StepRows(customer, await session.get(Store, req.store_id), cart)
