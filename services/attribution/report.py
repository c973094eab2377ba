"""The attribution report: orders and revenue per source, medium, campaign, ad campaign, flow
or sales channel over a period. A cancelled or fully refunded order is no sale; a partly
refunded one counts what the store kept. Revenue is per currency, in minor units, never summed
across currencies."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from models import Order, OrderAttribution
from services.errors import invalid_field

MAX_DAYS = 366
DEFAULT_DAYS = 30
MAX_ROWS = 1000
NONE_KEY = "(none)"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class GroupBy(StrEnum):
    SOURCE = "source"
    MEDIUM = "medium"
    CAMPAIGN = "campaign"
    AD_CAMPAIGN = "ad_campaign"
    FLOW = "flow"
    CHANNEL = "channel"


TOUCHED = {
    GroupBy.SOURCE: (OrderAttribution.first_source, OrderAttribution.last_source),
    GroupBy.MEDIUM: (OrderAttribution.first_medium, OrderAttribution.last_medium),
    GroupBy.CAMPAIGN: (OrderAttribution.first_campaign, OrderAttribution.last_campaign),
}
SINGLE = {
    GroupBy.AD_CAMPAIGN: OrderAttribution.ad_campaign_id,
    GroupBy.FLOW: OrderAttribution.flow,
    GroupBy.CHANNEL: OrderAttribution.channel,
}


def parse_bound(value: str, field: str, *, end: bool) -> datetime:
    """RFC 3339 with an offset, or a date: `from=2026-03-01` starts at its midnight (UTC),
    `to=2026-03-31` takes that whole day in."""
    if _DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise invalid_field(field, "not a valid date") from exc
        start = datetime.combine(day, time(), UTC)
        return start + timedelta(days=1) if end else start
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid_field(field, "must be an RFC 3339 date-time or a YYYY-MM-DD date") from exc
    if parsed.tzinfo is None:
        raise invalid_field(field, "a date-time needs an offset such as Z or +02:00")
    return parsed


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def period(from_: str | None, to: str | None, now: datetime) -> Period:
    end = parse_bound(to, "to", end=True) if to else now
    start = parse_bound(from_, "from", end=False) if from_ else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise invalid_field("from", "must be before to")
    if end - start > timedelta(days=MAX_DAYS):
        raise invalid_field("to", f"a report covers at most {MAX_DAYS} days")
    return Period(start, end)


def _sales(store_id: str, span: Period, *columns: ColumnElement[Any]) -> Select[Any]:
    """The period's orders that are still sales, with what the store kept of each."""
    kept = func.greatest(Order.total - Order.refunded_amount, 0)
    return (
        select(*columns, Order.currency.label("currency"), kept.label("net"))
        .join(
            Order,
            (Order.store_id == OrderAttribution.store_id)
            & (Order.order_id == OrderAttribution.order_id),
        )
        .where(
            OrderAttribution.store_id == store_id,
            OrderAttribution.placed_at >= span.start,
            OrderAttribution.placed_at < span.end,
            Order.status.not_in(("cancelled", "refunded")),
        )
    )


def _key(column: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    return func.coalesce(column, NONE_KEY)


def _touched_query(store_id: str, span: Period, by: GroupBy) -> Select[Any]:
    """One row per (key, order) an order touched: its first touch's key, and its last's when
    that is another; then counted per key and currency, in all and per model."""
    first_col, last_col = TOUCHED[by]
    base = _sales(
        store_id, span, _key(first_col).label("first_key"), _key(last_col).label("last_key")
    ).cte("base")
    pairs = union_all(
        select(
            base.c.first_key.label("key"),
            base.c.currency,
            base.c.net,
            true().label("is_first"),
            (base.c.first_key == base.c.last_key).label("is_last"),
        ),
        select(base.c.last_key, base.c.currency, base.c.net, literal(False), true()).where(
            base.c.first_key != base.c.last_key
        ),
    ).subquery("pairs")
    return select(
        pairs.c.key,
        pairs.c.currency,
        func.count(),
        func.sum(pairs.c.net),
        func.count().filter(pairs.c.is_first),
        func.sum(pairs.c.net).filter(pairs.c.is_first),
        func.count().filter(pairs.c.is_last),
        func.sum(pairs.c.net).filter(pairs.c.is_last),
    ).group_by(pairs.c.key, pairs.c.currency)


def _single_query(store_id: str, span: Period, by: GroupBy) -> Select[Any]:
    sales = _sales(store_id, span, _key(SINGLE[by]).label("key")).subquery("sales")
    return select(sales.c.key, sales.c.currency, func.count(), func.sum(sales.c.net)).group_by(
        sales.c.key, sales.c.currency
    )


def _figures() -> dict[str, Any]:
    return {"orders": 0, "revenue": {}}


def _add(figures: dict[str, Any], currency: str, orders: int, revenue: int | None) -> None:
    figures["orders"] += orders
    if orders:
        figures["revenue"][currency] = figures["revenue"].get(currency, 0) + int(revenue or 0)


async def attribution_report(
    session: AsyncSession, store_id: str, span: Period, by: GroupBy
) -> dict[str, Any]:
    """Rows of `{key, orders, revenue, first_touch, last_touch}`, most orders first. For
    source, medium and campaign, `orders` counts each order once under every key it touched
    (first or last), and `first_touch`/`last_touch` credit it to one key each; ad campaign,
    flow and channel have one value per order, so those two are null."""
    touched = by in TOUCHED
    query = _touched_query(store_id, span, by) if touched else _single_query(store_id, span, by)
    rows: dict[str, dict[str, Any]] = {}
    for key, currency, *counts in await session.execute(query):
        row = rows.setdefault(
            key,
            {
                "key": key,
                **_figures(),
                "first_touch": _figures() if touched else None,
                "last_touch": _figures() if touched else None,
            },
        )
        _add(row, currency, counts[0], counts[1])
        if touched:
            _add(row["first_touch"], currency, counts[2], counts[3])
            _add(row["last_touch"], currency, counts[4], counts[5])
    ordered = sorted(rows.values(), key=lambda r: (-r["orders"], r["key"]))
    return {
        "from": span.start,
        "to": span.end,
        "group_by": by,
        "rows": ordered[:MAX_ROWS],
        "truncated": len(ordered) > MAX_ROWS,
    }
