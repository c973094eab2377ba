"""Deciding and sending one flow step: the gate's verdict goes into the message log, and a step
that may go out is rendered from the store's data and handed to the provider once."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.messaging import MessageProvider, OutgoingMessage
from models import Cart, Customer, Product
from services.flow_config import FlowConfig
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
    scope = await _template_scope(session, ctx, customer, storefront_url)
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


async def _template_scope(
    session: AsyncSession, ctx: StepContext, customer: Customer, storefront_url: str
) -> dict[str, Any]:
    cart = await session.get(Cart, (ctx.store_id, ctx.cart_id)) if ctx.cart_id else None
    items: list[dict[str, Any]] = []
    if cart is not None:
        ids = [i["product_id"] for i in cart.items]
        products = {
            p.product_id: p
            for p in await session.scalars(
                select(Product).where(Product.store_id == ctx.store_id, Product.product_id.in_(ids))
            )
        }
        for item in cart.items:
            product = products.get(item["product_id"])
            if product is not None and (not product.available or product.deleted_at is not None):
                continue  # the message shows only what can still be bought
            items.append({**item, "title": product.title if product else item["product_id"]})
    query = urlencode(
        {"utm_source": "shopstar", "utm_medium": ctx.channel, "utm_campaign": ctx.flow}
    )
    link = (
        f"{storefront_url.rstrip('/')}/cart/{ctx.cart_id}?{query}"
        if ctx.cart_id
        else storefront_url
    )
    return {
        "customer": {"first_name": customer.first_name, "locale": customer.locale},
        "cart": {
            "items": items,
            "subtotal": cart.subtotal if cart else 0,
            "currency": cart.currency if cart else None,
        },
        "promo_code": None,
        "link": link,
    }
