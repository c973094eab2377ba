"""What the codes given at checkout are worth, read from the database before pricing: each
coupon either becomes an AppliedCoupon or is rejected with a reason; each gift card becomes a
live balance or is rejected. Rejected codes are never dropped silently."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Text, any_, bindparam, exists, select

from models import Coupon, CouponRedemption, GiftCard, Promotion
from services.checkout import pricing
from services.checkout.code_text import (
    hash_gift_card,
    mask_gift_card,
    normalize_coupon,
    normalize_gift_card,
)

UNKNOWN = "unknown"
EXPIRED = "expired"
NOT_STARTED = "not_started"
ALREADY_USED = "already_used_by_customer"

# Read by services/checkout/reads.py in the one statement of a checkout.
COUPONS = (
    select(
        Coupon.id,
        Coupon.code,
        Coupon.usage,
        Coupon.usage_limit,
        Coupon.used_count,
        Coupon.customer_id,
        Coupon.expires_at,
        Coupon.disabled_at,
        Promotion.id.label("promotion_id"),
        Promotion.disabled_at.label("promotion_disabled_at"),
        Promotion.starts_at,
        Promotion.ends_at,
        Promotion.currency,
        # A NULL customer matches no redemption: false for guests.
        exists()
        .where(
            CouponRedemption.coupon_id == Coupon.id,
            CouponRedemption.customer_id == bindparam("customer_id"),
            CouponRedemption.once_per_customer.is_(True),
            CouponRedemption.released_at.is_(None),
        )
        .label("used_by_customer"),
    )
    .join(Promotion, Promotion.id == Coupon.promotion_id)
    .where(
        Coupon.store_id == bindparam("store_id"),
        Coupon.code == any_(bindparam("codes", type_=ARRAY(Text))),
    )
)
GIFT_CARDS = select(
    GiftCard.id,
    GiftCard.code_hash,
    GiftCard.last4,
    GiftCard.balance,
    GiftCard.currency,
    GiftCard.expires_at,
).where(
    GiftCard.store_id == bindparam("store_id"),
    GiftCard.code_hash == any_(bindparam("hashes", type_=ARRAY(Text))),
)


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
    card_ids: dict[str, str] = field(default_factory=dict)  # normalized code given -> card id


def _coupon_reason(row: Any, currency: str, customer_id: str | None, now: datetime) -> str | None:
    """Why a known code cannot be used now, or None. `row` is a coupon joined to its promotion."""
    if row.disabled_at is not None or (row.expires_at and row.expires_at <= now):
        return EXPIRED
    if row.promotion_disabled_at is not None or (row.ends_at and row.ends_at <= now):
        return EXPIRED
    if row.starts_at is not None and row.starts_at > now:
        return NOT_STARTED
    if row.currency is not None and row.currency != currency:
        return pricing.CURRENCY_MISMATCH
    if row.customer_id is not None and row.customer_id != customer_id:
        return pricing.NOT_ELIGIBLE
    if row.usage == "single_use_per_customer":
        # Without a customer there is nobody to hold to "once".
        if customer_id is None:
            return pricing.NOT_ELIGIBLE
        if row.used_by_customer:
            return ALREADY_USED
    if row.usage == "limited" and row.used_count >= (row.usage_limit or 0):
        return pricing.EXHAUSTED
    return None


def coupon_codes(given: Sequence[str]) -> list[str]:
    return [normalize_coupon(code) for code in given]


def card_hashes(given: Sequence[str], hash_key: str) -> list[tuple[str, str]]:
    """Each code given, normalized, with the keyed hash it is stored under (in order)."""
    return [(code, hash_gift_card(code, hash_key)) for code in map(normalize_gift_card, given)]


def resolve_coupons(
    found: Mapping[str, Any],
    codes: Sequence[str],
    currency: str,
    customer_id: str | None,
    now: datetime,
    out: ResolvedCodes,
) -> None:
    """`codes` normalized, in the order given; `found` the rows of COUPONS by code."""
    seen: set[str] = set()
    for code in codes:
        row = found.get(code)
        if code in seen:
            reason: str | None = pricing.DUPLICATE
        elif row is None:
            reason = UNKNOWN
        else:
            reason = _coupon_reason(row, currency, customer_id, now)
        seen.add(code)
        if reason is not None or row is None:
            out.rejected.append(pricing.RejectedCode(code, reason or UNKNOWN))
            continue
        out.coupons.append(pricing.AppliedCoupon(code, row.promotion_id))
        out.uses[code] = CouponUse(row.id, row.usage)


def resolve_gift_cards(
    by_hash: Mapping[str, Any], hashes: Sequence[tuple[str, str]], now: datetime, out: ResolvedCodes
) -> None:
    """Cards go to pricing under their id (so two cards sharing a last four stay apart) and are
    shown masked: a gift-card code is a bearer secret, never echoed or stored in full.
    `hashes` from `card_hashes`, `by_hash` the rows of GIFT_CARDS by code hash."""
    for code, code_hash in hashes:
        card = by_hash.get(code_hash)
        if card is None:
            out.rejected.append(pricing.RejectedCode(mask_gift_card(code), UNKNOWN))
        elif card.expires_at is not None and card.expires_at <= now:
            out.rejected.append(pricing.RejectedCode(mask_gift_card(code), EXPIRED))
        else:
            out.gift_cards.append(pricing.GiftCardBalance(card.id, card.balance, card.currency))
            out.card_codes[card.id] = mask_gift_card(card.last4)
            out.card_ids[code] = card.id
