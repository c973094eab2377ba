"""A store's promotions and bundles as checkout prices with them, parsed once per version of the
store and kept in the process: a store changes them far less often than it prices carts.

The version is a fingerprint read with every checkout (services/checkout/reads.py): the number
of the store's promotions and the sum of their versions (every change of a promotion, ending and
disabling included, bumps its version in the same transaction), and the number of its bundles
and of the withdrawn ones (a bundle never changes otherwise). Any change moves it, so the next
checkout after a commit prices with the change. Which promotions are live also depends on the
time: each currency's live list is kept until the next start or end among them."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ARRAY, Text, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Bundle, Promotion
from services.checkout import pricing

PromotionKey = tuple[str, int]  # (id, version)
Gifts = tuple[pricing.FreeProduct, ...]
LivePromotion = tuple[PromotionKey, pricing.Promotion, Gifts]
_CACHE_LIMIT = 20_000
_EARLIEST, _LATEST = datetime.min, datetime.max
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class TimedPromotion:
    """A promotion with what decides whether it is live for a cart."""

    live: LivePromotion
    starts_at: datetime | None
    ends_at: datetime | None
    currency: str | None


@dataclass
class StoreState:
    fingerprint: str
    promotions: list[TimedPromotion]
    bundles: list[tuple[pricing.Bundle, str | None]]  # oldest first, the order they form sets
    # Over every promotion held (live now or not): what a checkout reads beside them.
    gift_product_ids: frozenset[str]
    gift_variant_ids: frozenset[str]
    needs_first_order: bool
    # currency -> (from, until, live promotions, live bundles)
    _live: dict[str, tuple[datetime, datetime, list[LivePromotion], list[pricing.Bundle]]] = field(
        default_factory=dict
    )

    def live(
        self, currency: str, now: datetime
    ) -> tuple[list[LivePromotion], list[pricing.Bundle]]:
        """The promotions live at `now` in `currency` (or in none), and the bundles."""
        kept = self._live.get(currency)
        if kept is not None and kept[0] <= now < kept[1]:
            return kept[2], kept[3]
        since, until = _EARLIEST.replace(tzinfo=now.tzinfo), _LATEST.replace(tzinfo=now.tzinfo)
        live = []
        for p in self.promotions:
            for moment in (p.starts_at, p.ends_at):
                if moment is not None:
                    if moment <= now:
                        since = max(since, moment)
                    else:
                        until = min(until, moment)
            if p.currency is not None and p.currency != currency:
                continue
            if (p.starts_at is None or p.starts_at <= now) and (
                p.ends_at is None or p.ends_at > now
            ):
                live.append(p.live)
        bundles = [b for b, c in self.bundles if c is None or c == currency]
        self._live[currency] = (since, until, live, bundles)
        return live, bundles


_states: dict[str, StoreState] = {}
# Parsed promotions by (id, version), shared by the states: an edit parses one promotion again.
_parsed: dict[PromotionKey, tuple[pricing.Promotion, Gifts]] = {}
_bundles: dict[str, pricing.Bundle] = {}

_HELD = (
    select(
        Promotion.id,
        Promotion.version,
        Promotion.seq,
        Promotion.starts_at,
        Promotion.ends_at,
        Promotion.currency,
    )
    .where(Promotion.store_id == bindparam("store_id"), Promotion.disabled_at.is_(None))
    .order_by(Promotion.id)
)
_BUNDLES = (
    select(Bundle.id, Bundle.currency, Bundle.components, Bundle.discount)
    .where(Bundle.store_id == bindparam("store_id"), Bundle.disabled_at.is_(None))
    .order_by(Bundle.seq)
)


def cached_state(store_id: str) -> StoreState | None:
    return _states.get(store_id)


async def load_state(session: AsyncSession, store_id: str, fingerprint: str) -> StoreState:
    """Read and parse what is new to this process; kept under `fingerprint`, read before (a
    change committed in between is only read early: the next checkout loads it again)."""
    held = (await session.execute(_HELD, {"store_id": store_id})).all()
    missing = [(r.id, r.version) for r in held if (r.id, r.version) not in _parsed]
    if missing:
        await _parse_promotions(session, missing)
    timed = []
    for r in held:
        if (parsed := _parsed.get((r.id, r.version))) is None:
            continue  # changed between the two reads: the next fingerprint differs, so reloads
        key = (r.id, r.version)
        timed.append(TimedPromotion((key, *parsed), r.starts_at, r.ends_at, r.currency))
    bundles = []
    for row in await session.execute(_BUNDLES, {"store_id": store_id}):
        if (bundle := _bundles.get(row.id)) is None:
            body = {"components": row.components, "discount": row.discount}
            bundle = _remember(_bundles, row.id, pricing.bundle_from_dict(row.id, body))
        bundles.append((bundle, row.currency))
    state = StoreState(
        fingerprint=fingerprint,
        promotions=timed,
        bundles=bundles,
        gift_product_ids=frozenset(
            g.product_id for t in timed for g in t.live[2] if g.product_id is not None
        ),
        gift_variant_ids=frozenset(
            g.variant_id for t in timed for g in t.live[2] if g.variant_id is not None
        ),
        needs_first_order=any(
            isinstance(c, pricing.FirstOrder) for t in timed for c in t.live[1].conditions
        ),
    )
    return _remember(_states, store_id, state)


_BODIES = select(
    Promotion.id,
    Promotion.version,
    Promotion.seq,
    Promotion.priority,
    Promotion.exclusive,
    Promotion.requires_coupon,
    Promotion.conditions,
    Promotion.actions,
).where(Promotion.id == any_(bindparam("ids", type_=ARRAY(Text))))


async def _parse_promotions(session: AsyncSession, missing: list[PromotionKey]) -> None:
    wanted = set(missing)
    rows = await session.execute(_BODIES, {"ids": [i for i, _ in missing]})
    for p in rows:
        if (p.id, p.version) not in wanted:
            continue  # changed since: the next fingerprint will say so
        body = {
            "priority": p.priority,
            "exclusive": p.exclusive,
            "requires_coupon": p.requires_coupon,
            "conditions": p.conditions,
            "actions": p.actions,
        }
        parsed = pricing.promotion_from_dict(p.id, body, p.seq)
        gifts = tuple(a for a in parsed.actions if isinstance(a, pricing.FreeProduct))
        _remember(_parsed, (p.id, p.version), (parsed, gifts))


def _remember(cache: dict[K, V], key: K, value: V) -> V:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value
