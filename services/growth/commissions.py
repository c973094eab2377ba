"""Affiliate commissions: which affiliate an order belongs to, what it earns, what a refund or
a cancel does to it, and its approval after the holding period. An order is attributed once,
when the event log projects its `order.placed` (an event is projected once); refunds and
cancels are settled here in SQL under the commission's row lock, so each counts once too.

Who gets the order, first match wins: the affiliate whose `coupon_code` is among the order's
`discount_codes`; then `attribution.affiliate_id` (an affiliate's id or code); then the
visitor's (`attribution.visitor_id`) last click still inside its affiliate's cookie window."""

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import CommissionStatus
from models import Affiliate, AffiliateClick, Commission, CommissionAdjustment
from services.checkout.code_text import normalize_coupon
from services.events.types import OrderPlaced
from services.ids import new_id
from services.pagination import fetch_page

log = logging.getLogger("shopstar.affiliates")
UNPAID = (CommissionStatus.PENDING, CommissionStatus.APPROVED)


def _active(store_id: str) -> Select[Affiliate]:
    return select(Affiliate).where(Affiliate.store_id == store_id, Affiliate.active.is_(True))


async def affiliate_of_order(
    session: AsyncSession, store_id: str, data: OrderPlaced, placed_at: datetime
) -> tuple[Affiliate, str] | None:
    """The affiliate the order is credited to, and why (`coupon`, `affiliate_id`, `click`)."""
    attribution = data.attribution
    codes = [normalize_coupon(c) for c in data.discount_codes or []]
    if codes:
        found = await session.scalar(
            _active(store_id).where(Affiliate.coupon_code.in_(codes)).order_by(Affiliate.id)
        )
        if found is not None:
            return found, "coupon"
    if attribution is not None and attribution.affiliate_id:
        given = attribution.affiliate_id
        found = await session.scalar(
            _active(store_id).where(
                or_(Affiliate.id == given, Affiliate.code == given.strip().upper())
            )
        )
        if found is not None:
            return found, "affiliate_id"
    if attribution is not None and attribution.visitor_id:
        # The newest clicks first; each is judged against its own affiliate's window.
        rows = await session.execute(
            select(Affiliate, AffiliateClick.clicked_at)
            .join(AffiliateClick, AffiliateClick.affiliate_id == Affiliate.id)
            .where(
                Affiliate.store_id == store_id,
                Affiliate.active.is_(True),
                AffiliateClick.store_id == store_id,
                AffiliateClick.visitor_id == attribution.visitor_id,
                AffiliateClick.clicked_at <= placed_at,
            )
            .order_by(AffiliateClick.clicked_at.desc(), AffiliateClick.id.desc())
            .limit(50)
        )
        for affiliate, clicked_at in rows.tuples():
            if clicked_at >= placed_at - timedelta(days=affiliate.cookie_days):
                return affiliate, "click"
    return None


def earned(affiliate: Affiliate, base: int, currency: str) -> int:
    """What the order earns: a percent of its total without shipping (rounded half up), or the
    fixed amount (only on orders in the affiliate's currency: it has no exchange rates)."""
    if affiliate.commission_type == "percent":
        return (base * affiliate.commission_value + 5_000) // 10_000
    return affiliate.commission_value if currency == affiliate.currency else 0


async def attribute_order(
    session: AsyncSession, store_id: str, data: OrderPlaced, placed_at: datetime
) -> Commission | None:
    """Record the order's commission (pending) if an affiliate earned one; the relay then
    starts its `AffiliateCommissionWorkflow`, which approves it after the holding days."""
    found = await affiliate_of_order(session, store_id, data, placed_at)
    if found is None:
        return None
    affiliate, source = found
    base = max(data.total - data.shipping, 0)
    amount = earned(affiliate, base, data.currency)
    if amount <= 0:
        log.info("order earns no commission", extra={"store_id": store_id})
        return None
    now = datetime.now(UTC)
    stmt = (
        insert(Commission)
        .values(
            id=new_id("com"),
            store_id=store_id,
            affiliate_id=affiliate.id,
            order_id=data.order_id,
            source=source,
            currency=data.currency,
            base_amount=base,
            refunded_amount=0,
            earned_amount=amount,
            amount=amount,
            status=CommissionStatus.PENDING,
            holding_days=affiliate.holding_days,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(Commission)
    )
    return await session.scalar(stmt)


async def settle_order_change(
    session: AsyncSession, store_id: str, order_id: str, *, cancelled: bool, refund: int | None
) -> None:
    """A cancel, or a refund (`refund` None: in full), lowers the commission in proportion to
    what is left of the order; at nothing left it is voided. Paid already, the difference is a
    clawback the next payout takes off."""
    commission = await session.scalar(
        select(Commission)
        .where(Commission.store_id == store_id, Commission.order_id == order_id)
        .with_for_update()
    )
    if commission is None or commission.status == CommissionStatus.VOIDED:
        return
    base = commission.base_amount
    if cancelled or refund is None:
        commission.refunded_amount = base
    else:
        commission.refunded_amount = min(commission.refunded_amount + refund, base)
    left = base - commission.refunded_amount
    new_amount = commission.earned_amount * left // base if base else 0
    if cancelled or refund is None:
        new_amount = 0
    lowered = commission.amount - new_amount
    if lowered <= 0:
        return
    commission.updated_at = datetime.now(UTC)
    if commission.status == CommissionStatus.PAID:
        session.add(
            CommissionAdjustment(
                id=new_id("adj"),
                store_id=store_id,
                affiliate_id=commission.affiliate_id,
                commission_id=commission.id,
                currency=commission.currency,
                amount=-lowered,
                reason="cancelled" if cancelled else "refunded",
                created_at=commission.updated_at,
            )
        )
    elif new_amount == 0:
        commission.status = CommissionStatus.VOIDED
    commission.amount = new_amount
    await session.flush()


async def approve(session: AsyncSession, store_id: str, order_id: str) -> str:
    """The holding period is over: a pending commission becomes approved (once). Returns the
    commission's status now (`voided` if a refund or cancel came first; `missing` if gone)."""
    approved = await session.scalar(
        update(Commission)
        .where(
            Commission.store_id == store_id,
            Commission.order_id == order_id,
            Commission.status == CommissionStatus.PENDING,
        )
        .values(status=CommissionStatus.APPROVED, approved_at=func.now(), updated_at=func.now())
        .returning(Commission.status)
    )
    if approved is not None:
        return str(approved)
    status = await session.scalar(
        select(Commission.status).where(
            Commission.store_id == store_id, Commission.order_id == order_id
        )
    )
    return status or "missing"


async def hold_days(
    session: AsyncSession, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(store, order) -> holding days, for the orders of a batch that earned a commission."""
    if not keys:
        return {}
    rows = await session.execute(
        select(Commission.store_id, Commission.order_id, Commission.holding_days).where(
            tuple_(Commission.store_id, Commission.order_id).in_(keys)
        )
    )
    return {(r.store_id, r.order_id): r.holding_days for r in rows}


async def list_commissions(
    session: AsyncSession,
    store_id: str,
    affiliate_id: str,
    *,
    status: CommissionStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Commission], str | None]:
    query = select(Commission).where(
        Commission.store_id == store_id, Commission.affiliate_id == affiliate_id
    )
    if status is not None:
        query = query.where(Commission.status == str(status))
    return await fetch_page(session, query, Commission, limit, cursor)
