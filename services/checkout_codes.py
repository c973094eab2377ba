"""What the codes given at checkout are worth, read from the database before pricing: each
coupon either becomes an AppliedCoupon or is rejected with a reason; each gift card becomes a
live balance or is rejected. Rejected codes are never dropped silently."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Coupon, CouponRedemption, GiftCard, Promotion
from services import pricing
from services.codes import hash_gift_card, mask_gift_card, normalize_coupon, normalize_gift_card

UNKNOWN = "unknown"
EXPIRED = "expired"
NOT_STARTED = "not_started"
ALREADY_USED = "already_used_by_customer"


@dataclass(frozen=True)
class CouponUse:
    """What completing the checkout records for a coupon that applied."""

    coupon_id: str
    usage: str


@dataclass
class ResolvedCodes:
    coupons: list[pricing.AppliedCoupon] = field(default_factory=list)
    gift_cards: list[pricing.GiftCardBalance] = field(default_factory=list)
    rejected: list[pricing.RejectedCode] = field(default_factory=list)
    uses: dict[str, CouponUse] = field(default_factory=dict)  # by code
    card_codes: dict[str, str] = field(default_factory=dict)  # card id -> masked code


def _coupon_reason(
    coupon: Coupon, promotion: Promotion, currency: str, customer_id: str | None,
    used_by_customer: set[str], now: datetime,
) -> str | None:
    if coupon.disabled_at is not None or (coupon.expires_at and coupon.expires_at <= now):
        return EXPIRED
    if promotion.disabled_at is not None or (promotion.ends_at and promotion.ends_at <= now):
        return EXPIRED
    if promotion.starts_at is not None and promotion.starts_at > now:
        return NOT_STARTED
    if promotion.currency is not None and promotion.currency != currency:
        return pricing.CURRENCY_MISMATCH
    if coupon.customer_id is not None and coupon.customer_id != customer_id:
        return pricing.NOT_ELIGIBLE
    if coupon.usage == "single_use_per_customer":
        # Without a customer there is nobody to hold to "once".
        if customer_id is None:
            return pricing.NOT_ELIGIBLE
        if coupon.id in used_by_customer:
            return ALREADY_USED
    if coupon.usage == "limited" and coupon.used_count >= (coupon.usage_limit or 0):
        return pricing.EXHAUSTED
    return None


async def resolve_coupons(
    session: AsyncSession, store_id: str, given: Sequence[str], currency: str,
    customer_id: str | None, now: datetime, out: ResolvedCodes,
) -> None:
    codes = [normalize_coupon(code) for code in given]
    if not codes:
        return
    used_by_customer: ColumnElement[bool] = false()
    if customer_id is not None:
        used_by_customer = exists().where(
            CouponRedemption.coupon_id == Coupon.id,
            CouponRedemption.customer_id == customer_id,
            CouponRedemption.once_per_customer.is_(True),
            CouponRedemption.released_at.is_(None),
        )
    rows = (
        await session.execute(
            select(Coupon, Promotion, used_by_customer)
            .join(Promotion, Promotion.id == Coupon.promotion_id)
            .where(Coupon.store_id == store_id, Coupon.code.in_(set(codes)))
        )
    ).tuples().all()
    found = {coupon.code: (coupon, promotion) for coupon, promotion, _ in rows}
    used = {coupon.id for coupon, _, spent in rows if spent}
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            reason: str | None = pricing.DUPLICATE
        elif code not in found:
            reason = UNKNOWN
        else:
            coupon, promotion = found[code]
            reason = _coupon_reason(coupon, promotion, currency, customer_id, used, now)
        seen.add(code)
        if reason is not None:
            out.rejected.append(pricing.RejectedCode(code, reason))
            continue
        out.coupons.append(pricing.AppliedCoupon(code, promotion.id))
        out.uses[code] = CouponUse(coupon.id, coupon.usage)


async def resolve_gift_cards(
    session: AsyncSession, store_id: str, given: Sequence[str], hash_key: str, now: datetime,
    out: ResolvedCodes,
) -> None:
    """Cards go to pricing under their id (so two cards sharing a last four stay apart) and are
    shown masked: a gift-card code is a bearer secret, never echoed or stored in full."""
    codes = [normalize_gift_card(code) for code in given]
    if not codes:
        return
    hashes = {code: hash_gift_card(code, hash_key) for code in codes}
    cards = await session.scalars(
        select(GiftCard).where(
            GiftCard.store_id == store_id, GiftCard.code_hash.in_(set(hashes.values()))
        )
    )
    by_hash = {card.code_hash: card for card in cards}
    for code in codes:
        card = by_hash.get(hashes[code])
        if card is None:
            out.rejected.append(pricing.RejectedCode(mask_gift_card(code), UNKNOWN))
        elif card.expires_at is not None and card.expires_at <= now:
            out.rejected.append(pricing.RejectedCode(mask_gift_card(code), EXPIRED))
        else:
            out.gift_cards.append(pricing.GiftCardBalance(card.id, card.balance, card.currency))
            out.card_codes[card.id] = mask_gift_card(card.last4)
