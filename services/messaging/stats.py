"""Per-step statistics of a flow: what was sent, delivered, failed or suppressed (and why), and
the orders and revenue attributed to it."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import MessageStatus
from models import Conversion, Message, Order
from services.messaging.flows import check_kind


async def flow_stats(
    session: AsyncSession, store_id: str, kind: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    check_kind(kind)
    steps: dict[int, dict[str, Any]] = {}

    def step(n: int) -> dict[str, Any]:
        return steps.setdefault(
            n,
            {
                "step": n,
                "sent": 0,
                "delivered": 0,
                "failed": 0,
                "unknown": 0,
                "suppressed": {},
                "conversions": 0,
                "revenue": [],
            },
        )

    counts = await session.execute(
        select(Message.step, Message.status, Message.suppression_reason, func.count())
        .where(
            Message.store_id == store_id,
            Message.flow == kind,
            Message.created_at >= start,
            Message.created_at < end,
        )
        .group_by(Message.step, Message.status, Message.suppression_reason)
    )
    for n, status, reason, count in counts:
        row = step(n)
        if status == MessageStatus.SUPPRESSED:
            row["suppressed"][reason] = row["suppressed"].get(reason, 0) + count
        elif status in (MessageStatus.SENT, MessageStatus.DELIVERED):
            row["sent"] += count
            row["delivered"] += count if status == MessageStatus.DELIVERED else 0
        elif status == MessageStatus.FAILED:
            row["failed"] += count
        elif status == MessageStatus.UNKNOWN:  # handed over, no answer yet: not counted as sent
            row["unknown"] += count
    # A cancelled or fully refunded order is no conversion; a partly refunded one counts what
    # the store kept.
    kept = Conversion.revenue - func.coalesce(Order.refunded_amount, 0)
    conversions = await session.execute(
        select(Conversion.step, Conversion.currency, func.count(), func.sum(kept))
        .outerjoin(
            Order, (Order.store_id == Conversion.store_id) & (Order.order_id == Conversion.order_id)
        )
        .where(
            Conversion.store_id == store_id,
            Conversion.flow == kind,
            Conversion.placed_at >= start,
            Conversion.placed_at < end,
            func.coalesce(Order.status, "placed").not_in(("cancelled", "refunded")),
        )
        .group_by(Conversion.step, Conversion.currency)
        .order_by(Conversion.currency)
    )
    for n, currency, count, revenue in conversions:
        row = step(n)
        row["conversions"] += count
        row["revenue"].append({"currency": currency, "amount": int(revenue)})
    return [steps[n] for n in sorted(steps)]
