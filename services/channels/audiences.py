"""Audiences (docs/channels.md, "Audiences"): a rule over the store's customers, uploaded as
hashed lists to the networks it names. A member matches the rule, has `consent.ads`, is not
erased and has an email or a phone. The rule's parts are ANDed.

`cart_abandoned`: a cart with items, not ordered, untouched for an hour (the abandoned-cart
flow's own first wait is of that order)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Text, and_, cast, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from models import Audience, AudienceMember, AudienceNetwork, Cart, Customer, Order
from services.errors import NotFound
from services.ids import new_id
from services.pagination import fetch_page

CART_ABANDONED_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Member:
    """A member's contact data: read for hashing only, never logged."""

    customer_id: str
    email: str | None
    phone: str | None


def _rule_conditions(store_id: str, rule: dict[str, Any], now: datetime) -> list[Any]:
    conditions: list[ColumnElement[bool]] = []
    if groups := rule.get("shopper_groups"):
        wanted = cast(postgresql.array(list(groups)), ARRAY(Text))
        conditions.append(Customer.shopper_groups.op("&&")(wanted))
    placed = and_(
        Order.store_id == store_id,
        Order.customer_id == Customer.customer_id,
        Order.status != "cancelled",
    )
    if (days := rule.get("purchased_within_days")) is not None:
        conditions.append(exists().where(placed, Order.placed_at >= now - timedelta(days=days)))
    if rule.get("cart_abandoned"):
        conditions.append(
            exists().where(
                Cart.store_id == store_id,
                Cart.customer_id == Customer.customer_id,
                Cart.ordered_at.is_(None),
                func.jsonb_array_length(Cart.items) > 0,
                Cart.updated_at <= now - CART_ABANDONED_AFTER,
            )
        )
    if spent := rule.get("min_total_spent"):
        total = (
            select(func.coalesce(func.sum(Order.total - Order.refunded_amount), 0))
            .where(placed, Order.currency == spent["currency"])
            .scalar_subquery()
        )
        conditions.append(total >= spent["amount"])
    return conditions


async def current_members(
    session: AsyncSession, store_id: str, rule: dict[str, Any], now: datetime | None = None
) -> list[Member]:
    query = select(Customer.customer_id, Customer.email, Customer.phone).where(
        Customer.store_id == store_id,
        Customer.consent_ads.is_(True),
        Customer.erased_at.is_(None),
        or_(Customer.email.is_not(None), Customer.phone.is_not(None)),
        *_rule_conditions(store_id, rule, now or datetime.now(UTC)),
    )
    rows = await session.execute(query.order_by(Customer.customer_id))
    return [Member(r.customer_id, r.email, r.phone) for r in rows]


async def create_audience(
    session: AsyncSession, store_id: str, name: str, rule: dict[str, Any], networks: list[str]
) -> Audience:
    now = datetime.now(UTC)
    audience = Audience(
        id=new_id("aud"),
        store_id=store_id,
        name=name,
        rule=rule,
        networks=networks,
        created_at=now,
        updated_at=now,
    )
    session.add(audience)
    await session.flush()
    for network in networks:
        session.add(AudienceNetwork(audience_id=audience.id, network=network, store_id=store_id))
    await session.flush()
    return audience


async def get_audience(session: AsyncSession, store_id: str, audience_id: str) -> Audience:
    audience = await session.get(Audience, audience_id)
    if audience is None or audience.store_id != store_id:
        raise NotFound("no such audience")
    return audience


async def list_audiences(
    session: AsyncSession, store_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Audience], str | None]:
    query = select(Audience).where(Audience.store_id == store_id)
    return await fetch_page(session, query, Audience, limit, cursor)


@dataclass(frozen=True)
class NetworkState:
    network: str
    remote_id: str | None
    members: int
    last_sync_at: datetime | None
    last_sync_status: str
    last_error: str | None
    added: int
    removed: int


async def network_states(
    session: AsyncSession, audience_ids: list[str]
) -> dict[str, list[NetworkState]]:
    """Per audience, each network's list: members uploaded now and the last sync."""
    counts = {
        (r.audience_id, r.network): r.n
        for r in await session.execute(
            select(AudienceMember.audience_id, AudienceMember.network, func.count().label("n"))
            .where(AudienceMember.audience_id.in_(audience_ids))
            .group_by(AudienceMember.audience_id, AudienceMember.network)
        )
    }
    rows = await session.scalars(
        select(AudienceNetwork)
        .where(AudienceNetwork.audience_id.in_(audience_ids))
        .order_by(AudienceNetwork.network)
    )
    states: dict[str, list[NetworkState]] = {a: [] for a in audience_ids}
    for r in rows:
        states[r.audience_id].append(
            NetworkState(
                r.network,
                r.remote_id,
                counts.get((r.audience_id, r.network), 0),
                r.last_sync_at,
                r.last_sync_status,
                r.last_error,
                r.added,
                r.removed,
            )
        )
    return states


async def claim_unscheduled(session: AsyncSession, limit: int) -> list[tuple[str, str]]:
    """(store, audience) whose sync schedule the worker must create, locked (SKIP LOCKED)."""
    rows = await session.execute(
        select(Audience.store_id, Audience.id)
        .where(Audience.schedule_synced_at.is_(None))
        .order_by(Audience.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(r.store_id, r.id) for r in rows]


async def mark_scheduled(session: AsyncSession, audience_ids: list[str]) -> None:
    if audience_ids:
        await session.execute(
            update(Audience)
            .where(Audience.id.in_(audience_ids))
            .values(schedule_synced_at=func.now())
        )
