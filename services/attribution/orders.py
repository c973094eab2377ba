"""What brought an order, decided once when `order.placed` is projected: the platform's own
attribution when the event carries one, else the touches of the visitor it names (or of the
customer's visitors); the flow message (services.messaging.attribution); the ad click; the
growth program's token. Cancellations and refunds change the order, not this record."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Conversion, Order, OrderAttribution, Visit
from models.json_rows import insert_json_rows, rows_param
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


@dataclass(frozen=True)
class _Credited:
    """One order's touches, before the batch's conversions and ad clicks are known."""

    order: OrderPlaced
    placed_at: datetime
    visitor_ids: list[str]
    visitor_id: str | None
    basis: str
    first: dict[str, Any] | None
    last: dict[str, Any] | None
    programs: dict[str, Any]
    placed: PlacedOrder


def _credit(
    order: OrderPlaced,
    placed_at: datetime,
    visitor_ids: list[str],
    first_visit: Visit | None,
    recent: list[Visit],
) -> _Credited:
    given = order.attribution
    # The last touch that was not direct, else the last visit (as the visitor record keeps it).
    last_visit = next((v for v in recent if not v.direct), recent[0] if recent else None)
    from_event = event_touch(given, placed_at)
    last = from_event or (_touch(last_visit) if last_visit else None)
    first = _touch(first_visit) if first_visit else from_event
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
    return _Credited(
        order=order,
        placed_at=placed_at,
        visitor_ids=visitor_ids,
        visitor_id=(given and given.visitor_id) or (last_visit.visitor_id if last_visit else None),
        basis="event" if from_event else "touches" if last else "none",
        first=first,
        last=last,
        programs=programs,
        placed=placed,
    )


async def attribute_placed_orders(
    session: AsyncSession, store_id: str, orders: Sequence[tuple[OrderPlaced, datetime]]
) -> list[AdClick | None]:
    """Called once per batch with the orders placed now (each once, when its `order.placed` is
    first projected); answers the ad click each credited (the ads report credits the same).
    The visitors, the flow messages and the records take a few statements for the whole batch;
    only an order with visitors reads their visits and ad clicks."""
    for order, _ in orders:  # first, so that a later order of the customer finds the visitor
        if order.attribution and order.attribution.visitor_id:
            await link_customer(session, store_id, order.attribution.visitor_id, order.customer_id)
    named = {o.customer_id for o, _ in orders if not (o.attribution and o.attribution.visitor_id)}
    visitors = await visitors_of(session, store_id, named)
    credited: list[_Credited] = []
    for order, placed_at in orders:
        given = order.attribution
        ids = (
            [given.visitor_id]
            if given and given.visitor_id
            else visitors.get(order.customer_id, [])
        )
        first_visit, recent = await _visit_touches(session, store_id, ids, placed_at)
        credited.append(_credit(order, placed_at, ids, first_visit, recent))
    await attribute_orders(session, store_id, [c.placed for c in credited])
    found = await session.execute(
        select(Conversion.order_id, Conversion.message_id, Conversion.flow).where(
            Conversion.store_id == store_id,
            Conversion.order_id.in_([c.order.order_id for c in credited]),
        )
    )
    messages = {order_id: (message_id, flow) for order_id, message_id, flow in found.tuples()}
    clicks = [await _ad_click(session, store_id, c.visitor_ids, c.placed_at) for c in credited]
    rows = [
        _record(c, messages.get(c.order.order_id), click)
        for c, click in zip(credited, clicks, strict=True)
    ]
    if rows:
        await session.execute(_INSERT_RECORDS, rows_param(store_id, rows))
    return clicks


_RECORD_COLUMNS = (
    "order_id",
    "placed_at",
    "channel",
    "visitor_id",
    "basis",
    "first_touch",
    "last_touch",
    "first_source",
    "first_medium",
    "first_campaign",
    "last_source",
    "last_medium",
    "last_campaign",
    "message_id",
    "flow",
    "ad_campaign_id",
    "ad_variant_key",
    *PROGRAMS,
)
_INSERT_RECORDS = insert_json_rows(OrderAttribution, _RECORD_COLUMNS).on_conflict_do_nothing()


def _record(
    c: _Credited,
    message: tuple[str, str] | None,
    click: AdClick | None,
) -> dict[str, Any]:
    first, last = c.first or {}, c.last or {}
    return {
        "order_id": c.order.order_id,
        "placed_at": c.placed_at,
        "channel": c.order.channel,
        "visitor_id": c.visitor_id,
        "basis": c.basis,
        "first_touch": c.first,
        "last_touch": c.last,
        "first_source": first.get("source"),
        "first_medium": first.get("medium"),
        "first_campaign": first.get("campaign"),
        "last_source": last.get("source"),
        "last_medium": last.get("medium"),
        "last_campaign": last.get("campaign"),
        "message_id": message[0] if message else None,
        "flow": message[1] if message else None,
        "ad_campaign_id": click.campaign_id if click else None,
        "ad_variant_key": click.variant_key if click else None,
        **c.programs,
    }


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
