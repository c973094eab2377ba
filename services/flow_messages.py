"""Deciding and sending one flow step: the gate's verdict goes into the message log, and a step
that may go out is rendered from the store's data and handed to the provider once."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from integrations.messaging import (
    MessageProvider,
    OutgoingMessage,
    PermanentSendError,
    provider_for,
)
from models import Customer
from services.consent import set_customer_consent
from services.flow_config import FlowConfig
from services.message_content import message_scope
from services.message_log import StepRef, find_step, mark_failed, mark_sent, record_step
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


@dataclass(frozen=True)
class SendOutcome:
    message_id: str
    status: str
    # Set when the provider refused the message for good; the row is already marked failed.
    failure: PermanentSendError | None = None


async def send_step(
    session: AsyncSession, ctx: StepContext, provider: MessageProvider, storefront_url: str
) -> SendOutcome:
    """Write the pending row under the step's idempotency key, then send. A row already sent is
    not sent again. A permanent refusal marks the row failed (and mirrors an opt-out into
    consent) and is returned, not raised, so that the caller commits it first."""
    row = await record_step(session, ctx.ref(), status="pending")
    if row.status == "failed":
        # A retry of an attempt whose failure was committed: the same failure again.
        earlier = PermanentSendError(row.failure_code or "failed", "refused on an earlier attempt")
        return SendOutcome(row.id, "failed", earlier)
    if row.status != "pending":
        return SendOutcome(row.id, row.status)
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
    variables = {k: render(v, scope) for k, v in (template.variables or {}).items()}
    sender = provider_for(provider, ctx.channel)
    try:
        provider_id = await sender.send(
            OutgoingMessage(
                message_id=row.id,
                channel=ctx.channel,
                to=getattr(customer, CONTACT_FIELD[ctx.channel]),
                subject=subject,
                body=body,
                content_sid=template.content_sid,
                content_variables=variables or None,
                store_id=ctx.store_id,
            )
        )
    except PermanentSendError as exc:
        await mark_failed(
            session, row.id, exc.code, exc.reason, provider=sender.name, subject=subject, body=body
        )
        if exc.withdraws_consent and ctx.customer_id is not None:
            await set_customer_consent(session, ctx.store_id, ctx.customer_id, ctx.channel, False)
        return SendOutcome(row.id, "failed", exc)
    await mark_sent(
        session,
        row.id,
        provider=sender.name,
        provider_message_id=provider_id,
        subject=subject,
        body=body,
    )
    return SendOutcome(row.id, "sent")
