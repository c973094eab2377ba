"""Which ad a storefront shows: the live campaigns of the placement, highest priority first,
the first whose targeting holds and whose frequency cap has room. The visitor's variant is
pinned on first serve (GrowthBook bucketing of the campaign id and visitor id), and the cap is
one conditional upsert of that same pinned row: PostgreSQL serialises a burst of requests of
one visitor on it, so a cap of 3 serves exactly 3 (docs/ads.md)."""

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import any_, case, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdAssignment, AdCampaign, AdImpression, Customer, Product
from services.ads.bucketing import variant_index
from services.ads.targeting import Visit, matches, needs_catalog, needs_customer, needs_history
from services.ids import new_id


@dataclass(frozen=True)
class AdRequest:
    placement: str
    visitor_id: str
    device_type: str
    customer_id: str | None = None
    category_id: str | None = None
    product_id: str | None = None


@dataclass(frozen=True)
class ServedAd:
    campaign_id: str
    variant_key: str
    creative: dict[str, Any]
    impression_token: str


def assign_variant(campaign_id: str, visitor_id: str, variants: list[dict[str, Any]]) -> str:
    """The variant a new visitor gets: GrowthBook's v2 hash, seeded with the campaign id."""
    index = variant_index(campaign_id, visitor_id, [int(v["weight"]) for v in variants])
    return str(variants[index]["key"])


@dataclass(frozen=True)
class LiveCampaign:
    """What serving reads of a campaign (a plain value: it is held between requests)."""

    id: str
    store_id: str
    priority: int
    targeting: dict[str, Any]
    variants: list[dict[str, Any]]
    cap_max_impressions: int | None
    cap_window_seconds: int | None
    starts_at: datetime
    ends_at: datetime | None


# The campaigns of a (store, placement), read once a second at most per api process: serving
# is the storefront's hottest path and campaigns change rarely. A change made through this
# process is seen at once (`forget_campaigns`); one made through another replica within a
# second. The schedule (starts_at, ends_at) is applied on every request, never cached.
HELD_SECONDS = 1.0
MAX_HELD = 10_000
_held: dict[tuple[str, str], tuple[float, list[LiveCampaign]]] = {}


def forget_campaigns(store_id: str) -> None:
    for key in [k for k in _held if k[0] == store_id]:
        _held.pop(key, None)


async def _read_campaigns(
    session: AsyncSession, store_id: str, placement: str
) -> list[LiveCampaign]:
    c = AdCampaign
    rows = await session.execute(
        select(
            c.id,
            c.store_id,
            c.priority,
            c.targeting,
            c.variants,
            c.cap_max_impressions,
            c.cap_window_seconds,
            c.starts_at,
            c.ends_at,
        )
        .where(c.store_id == store_id, any_(c.placements) == placement, c.ended_at.is_(None))
        .order_by(c.priority.desc(), c.created_at, c.id)
    )
    return [LiveCampaign(*row) for row in rows.tuples()]


async def live_campaigns(
    session: AsyncSession, store_id: str, placement: str, now: datetime
) -> list[LiveCampaign]:
    key, clock = (store_id, placement), time.monotonic()
    held = _held.get(key)
    if held is None or clock - held[0] >= HELD_SECONDS:
        if len(_held) >= MAX_HELD:
            _held.clear()
        held = (clock, await _read_campaigns(session, store_id, placement))
        _held[key] = held
    return [c for c in held[1] if c.starts_at <= now and (c.ends_at is None or c.ends_at > now)]


async def _visit(
    session: AsyncSession, store_id: str, request: AdRequest, campaigns: list[LiveCampaign]
) -> Visit:
    """What targeting needs to know, looked up only when a candidate campaign asks for it."""
    targetings = [c.targeting for c in campaigns]
    groups: list[str] = []
    if request.customer_id and needs_customer(targetings):
        groups = (
            await session.scalar(
                select(Customer.shopper_groups).where(
                    Customer.store_id == store_id,
                    Customer.customer_id == request.customer_id,
                    Customer.erased_at.is_(None),
                )
            )
        ) or []
    categories = {request.category_id} if request.category_id else set()
    if request.product_id and needs_catalog(targetings):
        categories |= set(
            (
                await session.scalar(
                    select(Product.category_ids).where(
                        Product.store_id == store_id, Product.product_id == request.product_id
                    )
                )
            )
            or []
        )
    new_visitor = False
    if needs_history(targetings):
        seen = await session.scalar(
            select(
                exists().where(
                    AdAssignment.store_id == store_id,
                    AdAssignment.visitor_id == request.visitor_id,
                )
            )
        )
        new_visitor = not seen
    return Visit(
        device_type=request.device_type,
        product_id=request.product_id,
        category_ids=frozenset(categories),
        shopper_groups=frozenset(groups),
        new_visitor=new_visitor,
    )


async def take_slot(
    session: AsyncSession, campaign: LiveCampaign, visitor_id: str, now: datetime
) -> str | None:
    """Count one serve against the visitor's frequency window and return their pinned variant,
    or None when the cap is reached. The window starts at the first serve of it and lasts
    `window_seconds`; a serve after it opens a new one."""
    stmt = insert(AdAssignment).values(
        campaign_id=campaign.id,
        visitor_id=visitor_id,
        store_id=campaign.store_id,
        variant_key=assign_variant(campaign.id, visitor_id, campaign.variants),
        assigned_at=now,
        window_started_at=now,
        window_count=1,
    )
    row = AdAssignment
    if campaign.cap_max_impressions is None or campaign.cap_window_seconds is None:
        upsert = stmt.on_conflict_do_update(
            index_elements=[row.campaign_id, row.visitor_id],
            set_={"window_count": row.window_count + 1},
        )
    else:
        expired = row.window_started_at <= now - timedelta(seconds=campaign.cap_window_seconds)
        upsert = stmt.on_conflict_do_update(
            index_elements=[row.campaign_id, row.visitor_id],
            set_={
                "window_count": case((expired, 1), else_=row.window_count + 1),
                "window_started_at": case((expired, now), else_=row.window_started_at),
            },
            where=expired | (row.window_count < campaign.cap_max_impressions),
        )
    pinned = await session.scalar(upsert.returning(row.variant_key))
    if pinned is None:
        return None
    if all(v["key"] != pinned for v in campaign.variants):
        # Staff removed the visitor's variant: they move to one that exists, and stay there.
        pinned = assign_variant(campaign.id, visitor_id, campaign.variants)
        await session.execute(
            update(AdAssignment)
            .where(AdAssignment.campaign_id == campaign.id, AdAssignment.visitor_id == visitor_id)
            .values(variant_key=pinned)
        )
    return pinned


async def serve_ad(session: AsyncSession, store_id: str, request: AdRequest) -> ServedAd | None:
    now = datetime.now(UTC)
    campaigns = await live_campaigns(session, store_id, request.placement, now)
    if not campaigns:
        return None
    visit = await _visit(session, store_id, request, campaigns)
    for campaign in campaigns:
        if not matches(campaign.targeting, visit):
            continue
        variant_key = await take_slot(session, campaign, request.visitor_id, now)
        if variant_key is None:
            continue  # capped for this visitor: the next campaign gets the slot
        token = secrets.token_urlsafe(32)
        await session.execute(
            insert(AdImpression).values(
                id=new_id("adi"),
                store_id=store_id,
                token=token,
                campaign_id=campaign.id,
                variant_key=variant_key,
                visitor_id=request.visitor_id,
                placement=request.placement,
                served_at=now,
            )
        )
        variant = next(v for v in campaign.variants if v["key"] == variant_key)
        return ServedAd(campaign.id, variant_key, variant["creative"], token)
    return None
