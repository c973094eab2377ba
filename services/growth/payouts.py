"""Affiliate payouts: what is approved and not paid yet, less open clawbacks, becomes one payout
per affiliate and currency. Never paid twice: the affiliate's row lock serialises its payouts,
and each commission and clawback is taken by a conditional UPDATE (`payout_id IS NULL`), so a
line lands in one payout whatever runs at the same time. `payout.created` carries the lines."""

from collections.abc import Collection
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import CommissionStatus
from models import Affiliate, Commission, CommissionAdjustment, Payout, PayoutSchedule
from services.errors import Conflict, InvalidInput, NotFound
from services.growth.affiliates import get_affiliate
from services.growth.webhooks import WebhookEvent, emit
from services.ids import new_id
from services.pagination import fetch_page


class PayoutStatus(StrEnum):
    PENDING = "pending"  # created: the platform pays it, then marks it paid
    PAID = "paid"


class NothingToPay(Conflict):
    code = "nothing_to_pay"


class BelowMinimum(InvalidInput):
    code = "below_minimum"


async def balance(session: AsyncSession, affiliate_id: str, currency: str) -> tuple[int, int]:
    """(number of open lines, their sum): approved unpaid commissions and open clawbacks."""
    owed = select(func.count(), func.coalesce(func.sum(Commission.amount), 0)).where(
        Commission.affiliate_id == affiliate_id,
        Commission.currency == currency,
        Commission.status == CommissionStatus.APPROVED,
        Commission.payout_id.is_(None),
    )
    clawed = select(func.count(), func.coalesce(func.sum(CommissionAdjustment.amount), 0)).where(
        CommissionAdjustment.affiliate_id == affiliate_id,
        CommissionAdjustment.currency == currency,
        CommissionAdjustment.payout_id.is_(None),
    )
    a = (await session.execute(owed)).one()
    c = (await session.execute(clawed)).one()
    return int(a[0]) + int(c[0]), int(a[1]) + int(c[1])


async def _take_lines(
    session: AsyncSession, affiliate_id: str, currency: str, payout_id: str
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    taken = await session.execute(
        update(Commission)
        .where(
            Commission.affiliate_id == affiliate_id,
            Commission.currency == currency,
            Commission.status == CommissionStatus.APPROVED,
            Commission.payout_id.is_(None),
        )
        .values(status=CommissionStatus.PAID, payout_id=payout_id, updated_at=now)
        .returning(Commission.id, Commission.order_id, Commission.amount)
    )
    lines = [
        {"commission_id": r.id, "order_id": r.order_id, "adjustment": None, "amount": r.amount}
        for r in taken
    ]
    clawed = await session.execute(
        update(CommissionAdjustment)
        .where(
            CommissionAdjustment.affiliate_id == affiliate_id,
            CommissionAdjustment.currency == currency,
            CommissionAdjustment.payout_id.is_(None),
        )
        .values(payout_id=payout_id)
        .returning(
            CommissionAdjustment.id, CommissionAdjustment.commission_id, CommissionAdjustment.amount
        )
    )
    lines += [
        {"commission_id": r.commission_id, "order_id": None, "adjustment": r.id, "amount": r.amount}
        for r in clawed
    ]
    return sorted(lines, key=lambda line: (line["adjustment"] is not None, line["commission_id"]))


async def create_payout(
    session: AsyncSession,
    store_id: str,
    affiliate_id: str,
    *,
    trigger: str,
    currency: str | None = None,
) -> Payout:
    """One payout of everything open in `currency` (the affiliate's by default). 409
    `nothing_to_pay` with no open line; 422 `below_minimum` when the lines sum (clawbacks
    taken off) below the affiliate's payout minimum, or to nothing."""
    affiliate = await get_affiliate(session, store_id, affiliate_id, lock=True)
    currency = currency or affiliate.currency
    count, total = await balance(session, affiliate.id, currency)
    if count == 0:
        raise NothingToPay("nothing approved and unpaid to pay out")
    if total < max(affiliate.payout_minimum, 1):
        raise BelowMinimum(
            f"the balance {total} is below the payout minimum {affiliate.payout_minimum}",
            details=[{"field": "payout.minimum", "message": f"balance {total} {currency}"}],
        )
    payout_id = new_id("po")
    lines = await _take_lines(session, affiliate.id, currency, payout_id)
    payout = Payout(
        id=payout_id,
        store_id=store_id,
        affiliate_id=affiliate.id,
        currency=currency,
        amount=sum(line["amount"] for line in lines),
        status=PayoutStatus.PENDING,
        trigger=trigger,
        lines=lines,
        created_at=datetime.now(UTC),
    )
    session.add(payout)
    await session.flush()
    await emit(session, store_id, WebhookEvent.PAYOUT_CREATED, payout_data(payout))
    return payout


def payout_data(payout: Payout) -> dict[str, Any]:
    """The payout as the webhook and the API show it (ids and amounts only)."""
    return {
        "id": payout.id,
        "affiliate_id": payout.affiliate_id,
        "amount": payout.amount,
        "currency": payout.currency,
        "status": payout.status,
        "trigger": payout.trigger,
        "lines": payout.lines,
        "created_at": payout.created_at.isoformat(),
    }


async def automatic_payouts(session: AsyncSession, store_id: str) -> list[Payout]:
    """The schedule's round: every active automatic affiliate whose open balance in a currency
    reaches its minimum gets a payout in that currency."""
    affiliates = await session.scalars(
        select(Affiliate)
        .where(
            Affiliate.store_id == store_id,
            Affiliate.active.is_(True),
            Affiliate.payout_mode == "automatic",
        )
        .order_by(Affiliate.id)
    )
    payouts = []
    for affiliate in list(affiliates):
        currencies = await session.scalars(
            select(Commission.currency)
            .where(
                Commission.affiliate_id == affiliate.id,
                Commission.status == CommissionStatus.APPROVED,
                Commission.payout_id.is_(None),
            )
            .distinct()
        )
        for currency in sorted(currencies):
            count, total = await balance(session, affiliate.id, currency)
            if count and total >= max(affiliate.payout_minimum, 1):
                payouts.append(
                    await create_payout(
                        session, store_id, affiliate.id, trigger="automatic", currency=currency
                    )
                )
    return payouts


async def list_payouts(
    session: AsyncSession,
    store_id: str,
    *,
    affiliate_id: str | None,
    status: PayoutStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Payout], str | None]:
    query = select(Payout).where(Payout.store_id == store_id)
    if affiliate_id is not None:
        query = query.where(Payout.affiliate_id == affiliate_id)
    if status is not None:
        query = query.where(Payout.status == str(status))
    return await fetch_page(session, query, Payout, limit, cursor)


async def mark_paid(session: AsyncSession, store_id: str, payout_id: str) -> Payout:
    """The platform has paid it. Marking it again changes nothing (a retried request)."""
    payout = await session.scalar(
        select(Payout).where(Payout.id == payout_id, Payout.store_id == store_id).with_for_update()
    )
    if payout is None:
        raise NotFound("payout not found", code="payout_not_found")
    if payout.status != PayoutStatus.PAID:
        payout.status, payout.paid_at = PayoutStatus.PAID, datetime.now(UTC)
        await session.flush()
    return payout


async def claim_unsynced_schedules(
    session: AsyncSession, limit: int, stores: Collection[str] | None = None
) -> list[str]:
    """Stores whose payout schedule the worker must create or update, locked (SKIP LOCKED);
    only those of `stores` when given (a test)."""
    query = select(PayoutSchedule.store_id).where(PayoutSchedule.synced_at.is_(None))
    if stores is not None:
        query = query.where(PayoutSchedule.store_id.in_(stores))
    rows = await session.scalars(
        query.order_by(PayoutSchedule.requested_at).limit(limit).with_for_update(skip_locked=True)
    )
    return list(rows)


async def mark_schedules_synced(session: AsyncSession, store_ids: list[str]) -> None:
    if store_ids:
        await session.execute(
            update(PayoutSchedule)
            .where(PayoutSchedule.store_id.in_(store_ids))
            .values(synced_at=func.now())
        )
