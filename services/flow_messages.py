"""Deciding and sending one flow step: the gate's verdict goes into the message log, and a step
that may go out is rendered from the store's data and handed to the provider once."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from integrations.messaging import MessageProvider, OutgoingMessage
from models import Customer
from services.flow_config import FlowConfig
from services.message_content import message_scope
from services.message_log import StepRef, find_step, mark_sent, record_step
from services.send_gate import CONTACT_FIELD, GateInput, GateVerdict, check_send_gate
from services.templates import render


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
        ),
    )
    if verdict.reason is not None:
        await record_step(session, ctx.ref(), status="suppressed", reason=verdict.reason)
    return verdict


async def send_step(
    session: AsyncSession, ctx: StepContext, provider: MessageProvider, storefront_url: str
) -> tuple[str, str]:
    """Write the pending row under the step's idempotency key, then send. A row already sent is
    not sent again. Returns (message id, status)."""
    row = await record_step(session, ctx.ref(), status="pending")
    if row.status != "pending":
        return row.id, row.status
    customer = await session.get(Customer, (ctx.store_id, ctx.customer_id))
    assert customer is not None  # the gate checked it
    template = ctx.config.steps[ctx.step].template
    scope = await message_scope(
        session,
        store_id=ctx.store_id,
        flow=ctx.flow,
        channel=ctx.channel,
        customer=customer,
        cart_id=ctx.cart_id,
        product_id=ctx.product_id,
        order_id=ctx.order_id,
        storefront_url=storefront_url,
        message_id=row.id,
        promo_code=row.promo_code,
    )
    subject = render(template.subject, scope) if template.subject else None
    body = render(template.body or "", scope)
    provider_id = await provider.send(
        OutgoingMessage(
            message_id=row.id,
            channel=ctx.channel,
            to=getattr(customer, CONTACT_FIELD[ctx.channel]),
            subject=subject,
            body=body,
            content_sid=template.content_sid,
            content_variables=template.variables,
        )
    )
    await mark_sent(
        session,
        row.id,
        provider=provider.name,
        provider_message_id=provider_id,
        subject=subject,
        body=body,
    )
    return row.id, "sent"
