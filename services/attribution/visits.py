"""Storefront visits: each one is a touch; the visitor keeps its first touch and its last one,
and becomes a customer when the storefront names one."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Visit, Visitor
from services.attribution.landing import BadUrl, Touch, parse_landing
from services.errors import invalid_field
from services.ids import new_id


@dataclass(frozen=True)
class VisitRecord:
    visit: Visit
    touch: Touch
    first_visit_id: str  # the visitor's first touch
    last_touch_visit_id: str  # and its last (non-direct) one


async def record_visit(
    session: AsyncSession,
    store_id: str,
    *,
    visitor_id: str,
    customer_id: str | None,
    landing_url: str,
    referrer: str | None,
    at: datetime,
) -> VisitRecord:
    """Store the visit's touch and move the visitor's first and last touch. A direct visit
    (no tags, no outside referrer) does not take the last touch from a campaign: the credit
    stays with what brought the visitor (Google Analytics' "last non-direct click")."""
    try:
        touch = parse_landing(landing_url, referrer, at)
    except BadUrl as exc:
        raise invalid_field("landing_url", str(exc)) from exc
    visit = Visit(
        id=new_id("vis"),
        store_id=store_id,
        visitor_id=visitor_id,
        visited_at=at,
        source=touch.source,
        medium=touch.medium,
        direct=touch.is_direct,
        touch=touch.as_dict(),
    )
    session.add(visit)
    await session.flush()
    stmt = insert(Visitor).values(
        store_id=store_id,
        visitor_id=visitor_id,
        customer_id=customer_id,
        first_visit_id=visit.id,
        first_seen_at=at,
        last_visit_id=visit.id,
        last_touch_at=at,
        last_touch_direct=visit.direct,
        last_seen_at=at,
    )
    new = stmt.excluded
    earlier = new.first_seen_at < Visitor.first_seen_at
    takes_last = (new.last_touch_direct.is_(False) | Visitor.last_touch_direct) & (
        new.last_touch_at >= Visitor.last_touch_at
    )
    visitor = await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Visitor.store_id, Visitor.visitor_id],
            set_={
                "customer_id": func.coalesce(new.customer_id, Visitor.customer_id),
                "first_visit_id": case((earlier, new.first_visit_id), else_=Visitor.first_visit_id),
                "first_seen_at": func.least(new.first_seen_at, Visitor.first_seen_at),
                "last_visit_id": case((takes_last, new.last_visit_id), else_=Visitor.last_visit_id),
                "last_touch_at": case((takes_last, new.last_touch_at), else_=Visitor.last_touch_at),
                "last_touch_direct": case(
                    (takes_last, new.last_touch_direct), else_=Visitor.last_touch_direct
                ),
                "last_seen_at": func.greatest(new.last_seen_at, Visitor.last_seen_at),
            },
        ).returning(Visitor.first_visit_id, Visitor.last_visit_id)
    )
    first_id, last_id = visitor.one()
    return VisitRecord(visit, touch, first_id, last_id)


async def link_customer(
    session: AsyncSession, store_id: str, visitor_id: str, customer_id: str
) -> None:
    """The visitor turned out to be this customer (an order named both)."""
    await session.execute(
        update(Visitor)
        .where(Visitor.store_id == store_id, Visitor.visitor_id == visitor_id)
        .values(customer_id=customer_id)
    )


async def forget_customer(session: AsyncSession, store_id: str, customer_id: str) -> None:
    """Erasure: the visitors stay (pseudonymous browser ids), their link to the person goes."""
    await session.execute(
        update(Visitor)
        .where(Visitor.store_id == store_id, Visitor.customer_id == customer_id)
        .values(customer_id=None)
    )


MAX_VISITORS = 50  # of one customer (devices, cleared cookies): the most recently seen count


async def visitors_of(
    session: AsyncSession, store_id: str, customer_ids: Collection[str]
) -> dict[str, list[str]]:
    """Each customer's visitors, the most recently seen first (at most MAX_VISITORS each), in
    one statement for a whole batch of orders."""
    if not customer_ids:
        return {}
    seen = func.row_number().over(
        partition_by=Visitor.customer_id, order_by=Visitor.last_seen_at.desc()
    )
    ranked = (
        select(Visitor.customer_id, Visitor.visitor_id, seen.label("n"))
        .where(Visitor.store_id == store_id, Visitor.customer_id.in_(set(customer_ids)))
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.customer_id, ranked.c.visitor_id)
        .where(ranked.c.n <= MAX_VISITORS)
        .order_by(ranked.c.customer_id, ranked.c.n)
    )
    found: dict[str, list[str]] = {}
    for customer_id, visitor_id in rows.tuples():
        found.setdefault(customer_id, []).append(visitor_id)
    return found
