"""Last-touch attribution: an order placed within the store's attribution window (default 5
days) after a flow message is credited to that message. A click (the message id in
`utm_content`) names the message outright; otherwise the last message sent to the customer in
the window counts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import MessageStatus
from models import Store
from services.stores.settings import attribution_window_days

SENT = (MessageStatus.SENT, MessageStatus.DELIVERED)


# Every order of a batch credited in one statement: per order, the clicked message if it is in
# the window, else the customer's last message sent in it (each found through its index).
_ATTRIBUTE_ORDERS = text(
    """
    INSERT INTO conversions
        (store_id, order_id, message_id, flow, step, revenue, currency, placed_at)
    SELECT :store_id, o.order_id, m.id, m.flow, m.step, o.total, o.currency, o.placed_at
    FROM jsonb_to_recordset(CAST(:orders AS jsonb)) AS o(
        order_id text, customer_id text, placed_at timestamptz, total bigint, currency text,
        clicked text
    )
    CROSS JOIN LATERAL (
        SELECT c.id, c.flow, c.step FROM (
            (SELECT id, flow, step, 0 AS rank FROM messages
             WHERE id = o.clicked AND store_id = :store_id AND status = ANY(:sent)
               AND sent_at <= o.placed_at AND sent_at >= o.placed_at - :window)
            UNION ALL
            (SELECT id, flow, step, 1 AS rank FROM messages
             WHERE customer_id = o.customer_id AND store_id = :store_id
               AND status = ANY(:sent)
               AND sent_at <= o.placed_at AND sent_at >= o.placed_at - :window
             ORDER BY sent_at DESC LIMIT 1)
        ) AS c ORDER BY c.rank LIMIT 1
    ) AS m
    ON CONFLICT DO NOTHING
    """
)


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    customer_id: str
    placed_at: datetime
    total: int
    currency: str
    clicked_message_id: str | None


async def attribute_orders(session: AsyncSession, store_id: str, orders: list[PlacedOrder]) -> None:
    """`attribute_order` for many orders of one store, in two statements whatever their
    number (the store's window, then the conversions)."""
    if not orders:
        return
    own = await session.scalar(select(Store.settings).where(Store.id == store_id))
    rows = [
        {
            "order_id": o.order_id,
            "customer_id": o.customer_id,
            "placed_at": o.placed_at,
            "total": o.total,
            "currency": o.currency,
            "clicked": o.clicked_message_id,
        }
        for o in orders
    ]
    params = {
        "store_id": store_id,
        "orders": orjson.dumps(rows).decode(),
        "sent": [str(status) for status in SENT],
        "window": timedelta(days=attribution_window_days(own)),
    }
    await session.execute(_ATTRIBUTE_ORDERS, params)
