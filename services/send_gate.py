"""The send gate: right before a step goes out, re-check the store's data and say why not."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Cart, Customer, Message, Order, Product, RecoveryRun
from services.flow_config import FlowConfig


@dataclass(frozen=True)
class GateInput:
    store_id: str
    workflow_id: str
    run_key: str
    flow: str
    channel: str
    customer_id: str | None
    cart_id: str | None
    config: FlowConfig


CONTACT_FIELD = {"email": "email", "sms": "phone", "whatsapp": "phone"}


async def check_send_gate(session: AsyncSession, gate: GateInput) -> str | None:
    """None when the step may be sent, else the suppression reason."""
    customer = (
        await session.get(Customer, (gate.store_id, gate.customer_id)) if gate.customer_id else None
    )
    if customer is not None and customer.erased_at is not None:
        return "erased"
    cart = await session.get(Cart, (gate.store_id, gate.cart_id)) if gate.cart_id else None
    run = await session.get(RecoveryRun, (gate.store_id, gate.workflow_id))
    if cart is not None and await _converted(session, gate, cart, run):
        return "converted"
    if cart is not None and not cart.items:
        return "cart_empty"
    if customer is None or not getattr(customer, CONTACT_FIELD[gate.channel]):
        return "no_contact"
    if not getattr(customer, f"consent_{gate.channel}"):
        return "no_consent"
    if cart is not None and not await _any_product_available(session, gate.store_id, cart):
        return "product_unavailable"
    now = datetime.now(UTC)
    if await _ordered_since(
        session, gate, now - timedelta(seconds=gate.config.suppression.recent_order_window_seconds)
    ):
        return "recent_order"
    if await _similar_message_since(
        session,
        gate,
        now - timedelta(seconds=gate.config.suppression.similar_message_window_seconds),
    ):
        return "recent_similar_message"
    return None


async def _converted(
    session: AsyncSession, gate: GateInput, cart: Cart, run: RecoveryRun | None
) -> bool:
    """The cart was ordered, or the customer ordered since this run started."""
    if cart.ordered_at is not None:
        return True
    if gate.customer_id is None or run is None:
        return False
    return await _ordered_since(session, gate, run.started_at)


async def _ordered_since(session: AsyncSession, gate: GateInput, since: datetime) -> bool:
    if gate.customer_id is None:
        return False
    query = select(
        exists().where(
            Order.store_id == gate.store_id,
            Order.customer_id == gate.customer_id,
            Order.placed_at >= since,
            Order.status != "cancelled",
        )
    )
    return bool(await session.scalar(query))


async def _any_product_available(session: AsyncSession, store_id: str, cart: Cart) -> bool:
    """True while at least one product of the cart can still be bought. A product the catalog
    mirror has not heard of counts as available: only a known removal suppresses."""
    product_ids = {item["product_id"] for item in cart.items}
    gone = await session.scalar(
        select(func.count()).where(
            Product.store_id == store_id,
            Product.product_id.in_(product_ids),
            or_(Product.available.is_(False), Product.deleted_at.is_not(None)),
        )
    )
    return (gone or 0) < len(product_ids)


async def _similar_message_since(session: AsyncSession, gate: GateInput, since: datetime) -> bool:
    """A message of the same flow went to this customer from another run within the window."""
    query = select(
        exists().where(
            Message.store_id == gate.store_id,
            Message.customer_id == gate.customer_id,
            Message.flow == gate.flow,
            Message.status.in_(("sent", "delivered")),
            Message.sent_at >= since,
            Message.idempotency_key.not_like(f"{gate.workflow_id}:{gate.run_key}:%"),
        )
    )
    return bool(await session.scalar(query))
