"""Deciding one flow step: the gate's verdict goes into the message log."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.messaging.flow_config import FlowConfig
from services.messaging.gate import GateInput, GateVerdict, check_send_gate
from services.messaging.log import StepRef, find_step, record_step


@dataclass(frozen=True)
class StepContext:
    store_id: str
    workflow_id: str
    run_key: str
    flow: str
    step: int
    customer_id: str | None
    cart_id: str | None
    config: FlowConfig
    product_id: str | None = None
    order_id: str | None = None
    now: datetime | None = None
    flow_version: int | None = None

    @property
    def channel(self) -> str:
        return self.config.steps[self.step].channel

    def ref(self) -> StepRef:
        return StepRef(
            store_id=self.store_id,
            workflow_id=self.workflow_id,
            run_key=self.run_key,
            flow=self.flow,
            step=self.step,
            channel=self.channel,
            customer_id=self.customer_id,
        )


async def decide_step(session: AsyncSession, ctx: StepContext) -> GateVerdict:
    """Run the gate; a "no" is written to the message log."""
    existing = await find_step(session, ctx.ref())
    if existing is not None:
        # A retried activity: the first attempt already decided this step.
        return GateVerdict(existing.suppression_reason)
    verdict = await check_send_gate(
        session,
        GateInput(
            store_id=ctx.store_id,
            workflow_id=ctx.workflow_id,
            run_key=ctx.run_key,
            flow=ctx.flow,
            channel=ctx.channel,
            customer_id=ctx.customer_id,
            cart_id=ctx.cart_id,
            config=ctx.config,
            product_id=ctx.product_id,
            order_id=ctx.order_id,
            now=ctx.now,
            step=ctx.step,
            flow_version=ctx.flow_version,
        ),
    )
    if verdict.reason is not None:
        await record_step(session, ctx.ref(), status="suppressed", reason=verdict.reason)
    return verdict
