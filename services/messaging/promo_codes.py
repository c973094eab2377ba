"""Promo-code rules: each flow send that names one issues a new unique code of the rule's
promotion, single use, for that customer, expiring after the rule's days. A rule that is
disabled, whose promotion has ended, or that reached `max_codes` has no code to give."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import PromoCodeRule, Promotion
from services.checkout.coupons import CouponTerms, create_coupon
from services.checkout.promotions import is_live
from services.errors import NotFound, invalid_field
from services.ids import new_id


async def create_rule(
    session: AsyncSession,
    store_id: str,
    *,
    promotion_id: str,
    prefix: str | None,
    expires_after_days: int,
    max_codes: int | None,
) -> PromoCodeRule:
    promotion = await session.get(Promotion, promotion_id)
    if promotion is None or promotion.store_id != store_id:
        raise invalid_field("promotion_id", f"no promotion {promotion_id!r} in this store")
    if not promotion.requires_coupon:
        raise invalid_field("promotion_id", "the promotion must require a coupon")
    rule = PromoCodeRule(
        id=new_id("pcr"),
        store_id=store_id,
        promotion_id=promotion_id,
        prefix=prefix,
        expires_after_days=expires_after_days,
        max_codes=max_codes,
        issued_count=0,
    )
    session.add(rule)
    await session.flush()
    return rule


async def get_rule(session: AsyncSession, store_id: str, rule_id: str) -> PromoCodeRule:
    rule = await session.get(PromoCodeRule, rule_id)
    if rule is None or rule.store_id != store_id:
        raise NotFound("promo-code rule not found")
    return rule


async def list_rules(session: AsyncSession, store_id: str) -> Sequence[PromoCodeRule]:
    query = select(PromoCodeRule).where(PromoCodeRule.store_id == store_id)
    return (await session.scalars(query.order_by(PromoCodeRule.created_at, PromoCodeRule.id))).all()


async def set_rule_enabled(
    session: AsyncSession, store_id: str, rule_id: str, enabled: bool
) -> PromoCodeRule:
    rule = await get_rule(session, store_id, rule_id)
    rule.disabled_at = None if enabled else (rule.disabled_at or datetime.now(UTC))
    await session.flush()
    return rule


async def check_rules_exist(session: AsyncSession, store_id: str, rule_ids: set[str]) -> None:
    """A flow may name only rules of its own store."""
    if not rule_ids:
        return
    found = set(
        (
            await session.scalars(
                select(PromoCodeRule.id).where(
                    PromoCodeRule.store_id == store_id, PromoCodeRule.id.in_(rule_ids)
                )
            )
        ).all()
    )
    if missing := sorted(rule_ids - found):
        raise invalid_field("steps.promo_code_rule_id", f"unknown promo-code rule {missing[0]!r}")


def _can_issue(now: datetime) -> ColumnElement[bool]:
    live = select(Promotion.id).where(Promotion.id == PromoCodeRule.promotion_id, is_live(now))
    return and_(
        PromoCodeRule.disabled_at.is_(None),
        or_(
            PromoCodeRule.max_codes.is_(None),
            PromoCodeRule.issued_count < PromoCodeRule.max_codes,
        ),
        live.exists(),
    )


async def issue_code(
    session: AsyncSession, store_id: str, rule_id: str, customer_id: str
) -> str | None:
    """Take one code from the rule (a conditional update, so `max_codes` holds under any
    concurrency) and create it as a coupon for this customer; None when there is none (the
    send gate's last reason to say no)."""
    now = datetime.now(UTC)
    taken = await session.execute(
        update(PromoCodeRule)
        .where(PromoCodeRule.id == rule_id, PromoCodeRule.store_id == store_id, _can_issue(now))
        .values(issued_count=PromoCodeRule.issued_count + 1)
        .returning(
            PromoCodeRule.promotion_id, PromoCodeRule.prefix, PromoCodeRule.expires_after_days
        )
    )
    row = taken.first()
    if row is None:
        return None
    terms = CouponTerms(
        usage="limited",
        usage_limit=1,
        expires_at=now + timedelta(days=row.expires_after_days),
        customer_id=customer_id,
    )
    coupon = await create_coupon(session, store_id, row.promotion_id, terms, prefix=row.prefix)
    return coupon.code
