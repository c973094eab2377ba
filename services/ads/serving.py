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

from sqlalchemy import any_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdAssignment, AdCampaign, AdImpression
from models.database import SessionStatements, Statements
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
_reading: set[tuple[str, str]] = set()


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
    # One request re-reads an expired entry; the others keep serving the held list meanwhile
    # (for the read's few milliseconds), so a burst never reads the same campaigns many times.
    if held is None or (clock - held[0] >= HELD_SECONDS and key not in _reading):
        _reading.add(key)
        try:
            if len(_held) >= MAX_HELD:
                _held.clear()
            held = (clock, await _read_campaigns(session, store_id, placement))
            _held[key] = held
        finally:
            _reading.discard(key)
    return [c for c in held[1] if c.starts_at <= now and (c.ends_at is None or c.ends_at > now)]


# What targeting may ask of the visit, in one statement; each part only when asked (a NULL
# flag skips its subquery).
_VISIT = """
    SELECT
        CASE WHEN %(customer)s::text IS NOT NULL THEN
            (SELECT shopper_groups FROM customers
             WHERE store_id = %(store)s AND customer_id = %(customer)s AND erased_at IS NULL)
        END,
        CASE WHEN %(product)s::text IS NOT NULL THEN
            (SELECT category_ids FROM products
             WHERE store_id = %(store)s AND product_id = %(product)s)
        END,
        CASE WHEN %(history)s::boolean THEN
            EXISTS (SELECT FROM ad_assignments
                    WHERE store_id = %(store)s AND visitor_id = %(visitor)s)
        END
"""


async def _visit(
    db: Statements, store_id: str, request: AdRequest, campaigns: list[LiveCampaign]
) -> Visit:
    """What targeting needs to know, looked up only when a candidate campaign asks for it."""
    targetings = [c.targeting for c in campaigns]
    customer = request.customer_id if needs_customer(targetings) else None
    product = request.product_id if needs_catalog(targetings) else None
    history = needs_history(targetings)
    groups, categories, seen = None, None, None
    if customer or product or history:
        params = {
            "store": store_id,
            "customer": customer,
            "product": product,
            "history": history,
            "visitor": request.visitor_id,
        }
        row = await db.first(_VISIT, params)
        assert row is not None  # a SELECT without FROM: one row
        groups, categories, seen = row
    return Visit(
        device_type=request.device_type,
        product_id=request.product_id,
        category_ids=frozenset({request.category_id} if request.category_id else ())
        | frozenset(categories or ()),
        shopper_groups=frozenset(groups or ()),
        new_visitor=history and not seen,
    )


# One round trip per serve: the visitor's slot on the campaign (the pinned row's frequency
# window, counted only while it has room) and the impression served with it. The impression is
# written only when the pinned variant still exists; `serve_ad` handles the rare other case.
_SERVE = """
    WITH slot AS (
        INSERT INTO ad_assignments AS a (campaign_id, visitor_id, store_id, variant_key,
                                         assigned_at, window_started_at, window_count)
        VALUES (%(campaign)s, %(visitor)s, %(store)s, %(variant)s, %(now)s, %(now)s, 1)
        ON CONFLICT (campaign_id, visitor_id) DO UPDATE SET
            window_count = CASE WHEN a.window_started_at <= %(window_start)s::timestamptz
                                THEN 1 ELSE a.window_count + 1 END,
            window_started_at = CASE WHEN a.window_started_at <= %(window_start)s::timestamptz
                                     THEN %(now)s::timestamptz ELSE a.window_started_at END
        WHERE %(cap)s::integer IS NULL
           OR a.window_started_at <= %(window_start)s::timestamptz
           OR a.window_count < %(cap)s::integer
        RETURNING a.variant_key
    ), served AS (
        INSERT INTO ad_impressions (id, store_id, token, campaign_id, variant_key, visitor_id,
                                    placement, served_at)
        SELECT %(impression)s, %(store)s, %(token)s, %(campaign)s, slot.variant_key,
               %(visitor)s, %(placement)s, %(now)s
        FROM slot WHERE slot.variant_key = ANY(%(variants)s::text[])
        RETURNING 1
    )
    SELECT slot.variant_key, EXISTS (SELECT FROM served) FROM slot
"""


@dataclass(frozen=True)
class Slot:
    """The visitor's pinned variant, and whether the impression was written with it."""

    variant_key: str
    served: bool


async def take_slot(
    db: Statements,
    campaign: LiveCampaign,
    request: AdRequest,
    token: str,
    now: datetime,
) -> Slot | None:
    """Count one serve against the visitor's frequency window and write the impression, or None
    when the cap is reached. The window starts at the first serve of it and lasts
    `window_seconds`; a serve after it opens a new one."""
    capped = campaign.cap_max_impressions is not None and campaign.cap_window_seconds is not None
    window = timedelta(seconds=campaign.cap_window_seconds or 0)
    row = await db.first(
        _SERVE,
        {
            "campaign": campaign.id,
            "visitor": request.visitor_id,
            "store": campaign.store_id,
            "variant": assign_variant(campaign.id, request.visitor_id, campaign.variants),
            "now": now,
            "window_start": now - window if capped else None,
            "cap": campaign.cap_max_impressions if capped else None,
            "impression": new_id("adi"),
            "token": token,
            "placement": request.placement,
            "variants": [v["key"] for v in campaign.variants],
        },
    )
    return None if row is None else Slot(row[0], row[1])


async def _repin(
    session: AsyncSession, campaign: LiveCampaign, request: AdRequest, token: str, now: datetime
) -> str:
    """Staff removed the visitor's variant: they move to one that exists, and stay there."""
    pinned = assign_variant(campaign.id, request.visitor_id, campaign.variants)
    await session.execute(
        update(AdAssignment)
        .where(
            AdAssignment.campaign_id == campaign.id,
            AdAssignment.visitor_id == request.visitor_id,
        )
        .values(variant_key=pinned)
    )
    await session.execute(
        insert(AdImpression).values(
            id=new_id("adi"),
            store_id=campaign.store_id,
            token=token,
            campaign_id=campaign.id,
            variant_key=pinned,
            visitor_id=request.visitor_id,
            placement=request.placement,
            served_at=now,
        )
    )
    return pinned


async def serve_ad(
    session: AsyncSession, store_id: str, request: AdRequest, db: Statements | None = None
) -> ServedAd | None:
    """`db` runs the statements of every serve (default: in `session`); the rare ones (the
    campaigns re-read, a visitor moved off a removed variant) use `session`."""
    now = datetime.now(UTC)
    campaigns = await live_campaigns(session, store_id, request.placement, now)
    if not campaigns:
        return None
    db = db or SessionStatements(session)
    visit = await _visit(db, store_id, request, campaigns)
    for campaign in campaigns:
        if not matches(campaign.targeting, visit):
            continue
        token = secrets.token_urlsafe(32)
        slot = await take_slot(db, campaign, request, token, now)
        if slot is None:
            continue  # capped for this visitor: the next campaign gets the slot
        variant_key = slot.variant_key
        if not slot.served:
            variant_key = await _repin(session, campaign, request, token, now)
        variant = next(v for v in campaign.variants if v["key"] == variant_key)
        return ServedAd(campaign.id, variant_key, variant["creative"], token)
    return None
