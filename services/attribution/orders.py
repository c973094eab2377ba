"""What brought an order, decided once when `order.placed` is projected: the platform's own
attribution when the event carries one, else the touches of the visitor it names (or of the
customer's visitors); the flow message (services.messaging.attribution); the ad click; the
growth program's token. Cancellations and refunds change the order, not this record."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Conversion, Order, OrderAttribution, Visit
from services.ads.conversions import AdClick, last_ad_click
from services.attribution.landing import Touch, fbc_value, source_of
from services.attribution.visits import link_customer, visitors_of
from services.errors import NotFound
from services.events.types import Attribution, OrderPlaced
from services.messaging.attribution import PlacedOrder, attribute_orders

PROGRAMS = ("affiliate_id", "referral_code", "share_token")
RECENT_VISITS = 200  # the newest visits read for the last touch and the program tokens
_TOUCH_FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "gbraid",
    "wbraid",
    "fbclid",
    "fbc",
    *PROGRAMS,
)


def event_touch(given: Attribution | None, placed_at: datetime) -> dict[str, Any] | None:
    """The platform's attribution as a touch, when it names any campaign, click or token."""
    if given is None or not any(getattr(given, f) for f in _TOUCH_FIELDS):
        return None
    tags = {
        k: v
        for k, v in given.model_dump(exclude_none=True).items()
        if k not in ("visitor_id", "fbp") and not k.startswith("utm_")
    }
    if given.utm_source:
        source, medium = given.utm_source, given.utm_medium or "(none)"
    else:
        source, medium = source_of(tags, None, "")
    touch = Touch(
        source=source,
        medium=medium,
        campaign=given.utm_campaign,
        term=given.utm_term,
        content=given.utm_content,
        **{k: v for k, v in tags.items() if k != "fbc"},
    ).as_dict()
    touch.pop("fbc", None)
    if given.fbc or given.fbclid:
        # Meta wants the cookie's own creation time; without one the order's time stands in.
        touch["fbc"] = given.fbc or fbc_value(given.fbclid or "", placed_at)
    if given.fbp:
        touch["fbp"] = given.fbp
    return touch


async def _visit_touches(
    session: AsyncSession, store_id: str, visitor_ids: list[str], placed_at: datetime
) -> tuple[Visit | None, list[Visit]]:
    """The first visit of these visitors before the order, and the newest ones (newest first)."""
    if not visitor_ids:
        return None, []
    before = (
        Visit.store_id == store_id,
        Visit.visitor_id.in_(visitor_ids),
        Visit.visited_at <= placed_at,
    )
    first = await session.scalar(select(Visit).where(*before).order_by(Visit.visited_at).limit(1))
    recent = await session.scalars(
        select(Visit).where(*before).order_by(Visit.visited_at.desc()).limit(RECENT_VISITS)
    )
    return first, list(recent.all())


def _touch(visit: Visit) -> dict[str, Any]:
    return {**visit.touch, "visit_id": visit.id, "at": visit.visited_at.isoformat()}


async def _ad_click(
    session: AsyncSession, store_id: str, visitor_ids: list[str], placed_at: datetime
) -> AdClick | None:
    clicks = [await last_ad_click(session, store_id, v, placed_at) for v in visitor_ids]
    found = [c for c in clicks if c is not None]
    return max(found, key=lambda c: c.clicked_at) if found else None


async def attribute_placed_order(
    session: AsyncSession, store_id: str, order: OrderPlaced, placed_at: datetime
) -> AdClick | None:
    """Called once per order, when its `order.placed` is first projected; answers the ad click
    it credited (the ads report credits the same one)."""
    given = order.attribution
    if given and given.visitor_id:
        visitor_ids = [given.visitor_id]
        await link_customer(session, store_id, given.visitor_id, order.customer_id)
    else:
        visitor_ids = await visitors_of(session, store_id, order.customer_id)
    first_visit, recent = await _visit_touches(session, store_id, visitor_ids, placed_at)
    # The last touch that was not direct, else the last visit (as the visitor record keeps it).
    last_visit = next((v for v in recent if not v.direct), recent[0] if recent else None)
    from_event = event_touch(given, placed_at)
    last = from_event or (_touch(last_visit) if last_visit else None)
    first = _touch(first_visit) if first_visit else from_event
    basis = "event" if from_event else "touches" if last else "none"
    programs = {p: (last or {}).get(p) for p in PROGRAMS}
    for p in PROGRAMS:
        if programs[p] is None:
            programs[p] = next((v.touch[p] for v in recent if p in v.touch), None)
    placed = PlacedOrder(
        order_id=order.order_id,
        customer_id=order.customer_id,
        placed_at=placed_at,
        total=order.total,
        currency=order.currency,
        clicked_message_id=(last or {}).get("content"),
    )
    await attribute_orders(session, store_id, [placed])
    message = (
        await session.execute(
            select(Conversion.message_id, Conversion.flow).where(
                Conversion.store_id == store_id, Conversion.order_id == order.order_id
            )
        )
    ).first()
    click = await _ad_click(session, store_id, visitor_ids, placed_at)
    await session.execute(
        insert(OrderAttribution)
        .values(
            store_id=store_id,
            order_id=order.order_id,
            placed_at=placed_at,
            channel=order.channel,
            visitor_id=(given and given.visitor_id)
            or (last_visit.visitor_id if last_visit else None),
            basis=basis,
            first_touch=first,
            last_touch=last,
            first_source=(first or {}).get("source"),
            first_medium=(first or {}).get("medium"),
            first_campaign=(first or {}).get("campaign"),
            last_source=(last or {}).get("source"),
            last_medium=(last or {}).get("medium"),
            last_campaign=(last or {}).get("campaign"),
            message_id=message.message_id if message else None,
            flow=message.flow if message else None,
            ad_campaign_id=click.campaign_id if click else None,
            ad_variant_key=click.variant_key if click else None,
            **programs,
        )
        .on_conflict_do_nothing()
    )
    return click


async def order_attribution(
    session: AsyncSession, store_id: str, order_id: str
) -> OrderAttribution:
    """The order's record; an order projected before attribution existed has an empty one."""
    found = await session.get(OrderAttribution, (store_id, order_id))
    if found is not None:
        return found
    order = await session.get(Order, (store_id, order_id))
    if order is None:
        raise NotFound("no such order", code="order_not_found")
    return OrderAttribution(
        store_id=store_id,
        order_id=order_id,
        placed_at=order.placed_at,
        channel="storefront",
        basis="none",
    )
