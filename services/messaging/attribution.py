"""Last-touch attribution: an order placed within the store's attribution window (default 5
days) after a flow message is credited to that message. A click (the message id in
`utm_content`) names the message outright; otherwise the last message sent to the customer in
the window counts."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import MessageStatus
from models import Conversion, Message, Store
from services.stores.settings import attribution_window_days

SENT = (MessageStatus.SENT, MessageStatus.DELIVERED)


async def attribute_order(
    session: AsyncSession,
    *,
    store_id: str,
    order_id: str,
    customer_id: str,
    placed_at: datetime,
    total: int,
    currency: str,
    clicked_message_id: str | None,
) -> None:
    own = await session.scalar(select(Store.settings).where(Store.id == store_id))
    window = timedelta(days=attribution_window_days(own))
    in_window = (
        Message.store_id == store_id,
        Message.status.in_(SENT),
        Message.sent_at <= placed_at,
        Message.sent_at >= placed_at - window,
    )
    message = None
    if clicked_message_id:
        message = await session.scalar(
            select(Message).where(Message.id == clicked_message_id, *in_window)
        )
    if message is None:
        message = await session.scalar(
            select(Message)
            .where(Message.customer_id == customer_id, *in_window)
            .order_by(Message.sent_at.desc())
            .limit(1)
        )
    if message is None:
        return
    await session.execute(
        insert(Conversion)
        .values(
            store_id=store_id,
            order_id=order_id,
            message_id=message.id,
            flow=message.flow,
            step=message.step,
            revenue=total,
            currency=currency,
            placed_at=placed_at,
        )
        .on_conflict_do_nothing()
    )
