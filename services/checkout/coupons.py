"""Coupon codes of promotions: one code (given or generated) or a batch of unique ones."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Coupon, Promotion
from services.checkout.code_text import (
    COUPON_CODE,
    COUPON_PREFIX,
    COUPON_RANDOM_LENGTH,
    normalize_coupon,
    random_code,
)
from services.errors import Conflict, InvalidInput, NotFound, invalid_field
from services.ids import new_id
from services.pagination import fetch_page

Usage = Literal["single_use_per_customer", "limited", "unrestricted"]
MAX_BATCH = 10_000
_CHUNK = 1_000
_ATTEMPTS = 5


@dataclass(frozen=True)
class CouponTerms:
    usage: Usage
    usage_limit: int | None = None
    expires_at: datetime | None = None
    customer_id: str | None = None

    def check(self) -> None:
        if self.usage == "limited" and self.usage_limit is None:
            raise invalid_field("usage_limit", "is required when usage is 'limited'")
        if self.usage != "limited" and self.usage_limit is not None:
            raise invalid_field("usage_limit", "is only for usage 'limited'")
        if self.usage_limit is not None and self.usage_limit < 1:
            raise invalid_field("usage_limit", "must be at least 1")


async def _coupon_promotion(session: AsyncSession, store_id: str, promotion_id: str) -> Promotion:
    promotion = await session.get(Promotion, promotion_id)
    if promotion is None or promotion.store_id != store_id:
        raise invalid_field("promotion_id", f"no promotion {promotion_id!r} in this store")
    if not promotion.requires_coupon:
        raise invalid_field(
            "promotion_id", "this promotion applies automatically (requires_coupon is false)"
        )
    now = datetime.now(UTC)
    if promotion.disabled_at is not None or (promotion.ends_at and promotion.ends_at <= now):
        raise invalid_field("promotion_id", "this promotion has ended")
    return promotion


def _row(store_id: str, promotion_id: str, code: str, terms: CouponTerms) -> dict[str, Any]:
    return {
        "id": new_id("cpn"),
        "store_id": store_id,
        "promotion_id": promotion_id,
        "code": code,
        "usage": terms.usage,
        "usage_limit": terms.usage_limit,
        "used_count": 0,
        "customer_id": terms.customer_id,
        "expires_at": terms.expires_at,
        "created_at": datetime.now(UTC),
    }


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> list[str]:
    """Insert what does not clash with an existing code; returns the codes inserted."""
    stmt = insert(Coupon).values(rows).on_conflict_do_nothing(constraint="uq_coupons_store_code")
    return list((await session.scalars(stmt.returning(Coupon.code))).all())


def _prefix(prefix: str | None) -> str:
    normalized = normalize_coupon(prefix or "")
    if normalized and not COUPON_PREFIX.match(normalized):
        raise invalid_field("prefix", "up to 20 letters, digits, '-' or '_'")
    return normalized


async def create_coupon(
    session: AsyncSession,
    store_id: str,
    promotion_id: str,
    terms: CouponTerms,
    *,
    code: str | None = None,
    prefix: str | None = None,
) -> Coupon:
    """One coupon: the code given, or `prefix` + a random unambiguous part."""
    terms.check()
    await _coupon_promotion(session, store_id, promotion_id)
    if code is not None:
        wanted = normalize_coupon(code)
        if not COUPON_CODE.match(wanted):
            raise invalid_field("code", "3 to 64 letters, digits, '-' or '_'")
        if not await _insert(session, [_row(store_id, promotion_id, wanted, terms)]):
            raise Conflict(f"the code {wanted!r} is taken in this store", code="coupon_code_taken")
        return await _by_code(session, store_id, wanted)
    codes = await _generate(session, store_id, promotion_id, terms, _prefix(prefix), 1)
    return await _by_code(session, store_id, codes[0])


async def create_coupon_batch(
    session: AsyncSession,
    store_id: str,
    promotion_id: str,
    terms: CouponTerms,
    *,
    count: int,
    prefix: str | None = None,
) -> list[str]:
    if not 1 <= count <= MAX_BATCH:
        raise invalid_field("count", f"must be between 1 and {MAX_BATCH}")
    terms.check()
    await _coupon_promotion(session, store_id, promotion_id)
    return await _generate(session, store_id, promotion_id, terms, _prefix(prefix), count)


async def _generate(
    session: AsyncSession,
    store_id: str,
    promotion_id: str,
    terms: CouponTerms,
    prefix: str,
    count: int,
) -> list[str]:
    """Random codes, unique in the store: clashes (rare) are drawn again."""
    codes: list[str] = []
    for _ in range(_ATTEMPTS):
        missing = count - len(codes)
        if missing == 0:
            return codes
        fresh = list({prefix + random_code(COUPON_RANDOM_LENGTH) for _ in range(missing)})
        for start in range(0, len(fresh), _CHUNK):
            rows = [_row(store_id, promotion_id, c, terms) for c in fresh[start : start + _CHUNK]]
            codes += await _insert(session, rows)
    if len(codes) < count:
        raise InvalidInput("could not generate enough unique codes; try a longer prefix")
    return codes


async def _by_code(session: AsyncSession, store_id: str, code: str) -> Coupon:
    coupon = await session.scalar(
        select(Coupon).where(Coupon.store_id == store_id, Coupon.code == code)
    )
    assert coupon is not None
    return coupon


async def get_coupon(session: AsyncSession, store_id: str, coupon_id: str) -> Coupon:
    coupon = await session.get(Coupon, coupon_id)
    if coupon is None or coupon.store_id != store_id:
        raise NotFound("coupon not found")
    return coupon


async def disable_coupon(session: AsyncSession, store_id: str, coupon_id: str) -> Coupon:
    coupon = await get_coupon(session, store_id, coupon_id)
    if coupon.disabled_at is None:
        coupon.disabled_at = datetime.now(UTC)
        await session.flush()
    return coupon


async def list_coupons(
    session: AsyncSession,
    store_id: str,
    *,
    promotion_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[Coupon], str | None]:
    query = select(Coupon).where(Coupon.store_id == store_id)
    if promotion_id is not None:
        query = query.where(Coupon.promotion_id == promotion_id)
    return await fetch_page(session, query, Coupon, limit, cursor)
