"""Sending one flow step at most once, in three short transactions around the provider call:

1. `prepare_send`: the step's row (unique idempotency key) is rendered and marked as handed to
   the provider, and committed before the call;
2. the provider call, outside any transaction;
3. `record_sent` / `record_refusal` / `release_send` / `record_unknown` with the answer.

A retry that finds the row marked but not answered knows that the worker died during the call:
the provider probably took the message, so it is counted as sent rather than sent twice. A call
that may have reached the provider but got no answer (a read timeout, a dropped connection) makes
the row `unknown`: it is not sent again either, and the provider's callback settles it."""

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import Channel, MessageStatus, StepRequest
from integrations.messaging import OutgoingMessage, PermanentSendError
from services.messaging.consent import set_customer_consent
from services.messaging.content import message_scope
from services.messaging.gate import StepRows
from services.messaging.log import (
    clear_send_started,
    mark_failed,
    mark_send_started,
    mark_sent,
    mark_unknown,
    record_step,
)
from services.messaging.steps import step_ref
from services.messaging.templates import TemplateFailure, TemplateRenderer, shared_renderer
from services.stores.settings import StoreDefaults, as_defaults, effective_settings


@dataclass(frozen=True)
class PreparedSend:
    message_id: str
    # "ready" to hand over, else the step's final status (sent, failed, ...).
    status: MessageStatus | Literal["ready"]
    message: OutgoingMessage | None = None
    failure: PermanentSendError | None = None


async def prepare_send(
    session: AsyncSession,
    ctx: StepRequest,
    rows: StepRows,
    provider_name: str,
    defaults: StoreDefaults | str,
    renderer: TemplateRenderer | None = None,
) -> PreparedSend:
    """Render the step the gate let go, from the rows it read (`rows`) and the row it wrote
    (with the promo code it issued). Decides nothing: a step here goes out."""
    # The row the gate wrote (decide_step), else the step's row as it stands.
    row = rows.message or await record_step(session, step_ref(ctx), status=MessageStatus.PENDING)
    if row.status == MessageStatus.FAILED:
        earlier = PermanentSendError(row.failure_code or "failed", "refused on an earlier attempt")
        return PreparedSend(row.id, MessageStatus.FAILED, failure=earlier)
    if row.status != MessageStatus.PENDING:
        return PreparedSend(row.id, MessageStatus(row.status))
    if row.send_started_at is not None:
        await mark_sent(session, row.id, provider_message_id=None)
        return PreparedSend(row.id, MessageStatus.SENT)
    customer = rows.customer
    step = ctx.flow_config.steps[ctx.step]
    # The store's settings as they are now (runs in flight included).
    own = effective_settings(rows.store, as_defaults(defaults))
    template = step.template
    scope = await message_scope(
        session,
        store_id=ctx.store_id,
        flow=ctx.flow,
        channel=ctx.channel,
        customer=customer,
        cart_id=ctx.cart_id,
        cart=rows.cart,
        product_id=ctx.product_id,
        products=rows.products,
        order_id=ctx.order_id,
        storefront_url=own.storefront_base_url,
        message_id=row.id,
        promo_code=row.promo_code,
        utm_source=own.utm_source,
    )
    sources = {"body": template.body or ""}
    if template.subject:
        sources["subject"] = template.subject
    for name, source in (template.variables or {}).items():
        sources[f"variables.{name}"] = source
    try:
        # In a render process with a time limit: a template cannot stall the worker.
        rendered = await (renderer or shared_renderer()).render(sources, scope)
    except TemplateFailure as exc:
        # A template that cannot be rendered fails the same way on every retry: the step
        # fails once, with the reason on its row.
        refusal = PermanentSendError("template_error", exc.message)
        await mark_failed(
            session,
            row.id,
            refusal.code,
            refusal.reason,
            provider=provider_name,
            subject=None,
            body="",
            detail=exc.message,
        )
        return PreparedSend(row.id, MessageStatus.FAILED, failure=refusal)
    subject, body = rendered.get("subject"), rendered["body"]
    variables = {
        k.removeprefix("variables."): v for k, v in rendered.items() if k.startswith("variables.")
    }
    sender = own.sender_for(ctx.channel)
    await mark_send_started(
        session, row.id, provider=provider_name, subject=subject, body=body, sender=sender
    )
    message = OutgoingMessage(
        message_id=row.id,
        channel=ctx.channel,
        to=getattr(customer, ctx.channel.contact_field),
        subject=subject,
        body=body,
        content_sid=template.content_sid,
        content_variables=variables or None,
        store_id=ctx.store_id,
        sender=sender,
        sender_name=own.email_from.name if ctx.channel == Channel.EMAIL else None,
        reply_to=own.reply_to if ctx.channel == Channel.EMAIL else None,
    )
    return PreparedSend(row.id, "ready", message=message)


async def record_sent(session: AsyncSession, message_id: str, provider_message_id: str) -> None:
    await mark_sent(session, message_id, provider_message_id=provider_message_id)


async def record_refusal(
    session: AsyncSession,
    ctx: StepRequest,
    message: OutgoingMessage,
    refusal: PermanentSendError,
    provider_name: str,
) -> None:
    """The provider refused for good: the row fails, and an opt-out is mirrored into consent."""
    await mark_failed(
        session,
        message.message_id,
        refusal.code,
        refusal.reason,
        provider=provider_name,
        subject=message.subject,
        body=message.body,
    )
    if refusal.withdraws_consent and ctx.customer_id is not None:
        await set_customer_consent(session, ctx.store_id, ctx.customer_id, ctx.channel, False)


async def record_unknown(session: AsyncSession, message_id: str) -> None:
    await mark_unknown(session, message_id)


async def record_step_error(
    session: AsyncSession, ctx: StepRequest, provider_name: str, code: str, reason: str
) -> None:
    """The engine could not decide or prepare the step, and will not try again."""
    row = await record_step(session, step_ref(ctx), status=MessageStatus.PENDING)
    if row.status == MessageStatus.PENDING and row.send_started_at is None:
        await mark_failed(
            session,
            row.id,
            code,
            reason,
            provider=provider_name,
            subject=None,
            body="",
            detail=reason,
        )


async def release_send(session: AsyncSession, message_id: str) -> None:
    await clear_send_started(session, message_id)
