"""Recording what a completed checkout used, and giving it back once when the order is
cancelled or fully refunded (coupon uses, gift-card draws and store credit alike).

Every write that can race is one conditional statement: a coupon's use is counted with
`UPDATE ... WHERE used_count < usage_limit`, a once-per-customer use is a row that a partial
unique index admits once, a gift card or store credit is drawn with `UPDATE ... WHERE balance >=
amount`. Rows are touched in a fixed order (coupons by id, gift cards by id, then the customer's
store-credit account) so that two checkouts never wait on each other in a cycle."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import CompletedCheckout, Coupon, CouponRedemption, GiftCard, GiftCardTransaction
from services.checkout.codes import CouponUse
from services.checkout.store_credit import release_for_order
from services.errors import CouponAlreadyUsed, CouponExhausted, GiftCardInsufficient
from services.ids import new_id


async def redeem_coupons(
    session: AsyncSession,
    store_id: str,
    order_id: str,
    customer_id: str | None,
    uses: Sequence[CouponUse],
) -> None:
    now = datetime.now(UTC)
    for use in sorted(uses, key=lambda u: u.coupon_id):
        counted = update(Coupon).where(Coupon.id == use.coupon_id)
        if use.usage == "limited":
            counted = counted.where(Coupon.used_count < Coupon.usage_limit)
        stmt = counted.values(used_count=Coupon.used_count + 1).returning(Coupon.id)
        if await session.scalar(stmt) is None:
            raise CouponExhausted("this code's last use went to another order")
        once = use.usage == "single_use_per_customer"
        recorded = await session.scalar(
            insert(CouponRedemption)
            .values(
                id=new_id("red"),
                store_id=store_id,
                coupon_id=use.coupon_id,
                order_id=order_id,
                customer_id=customer_id,
                once_per_customer=once,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(CouponRedemption.id)
        )
        if recorded is None:
            raise CouponAlreadyUsed("this customer has already used this code")


async def draw_gift_cards(
    session: AsyncSession, store_id: str, order_id: str, draws: Sequence[tuple[str, int]]
) -> None:
    """`draws` are (card id, amount); a card that no longer holds the amount fails the whole
    checkout rather than leaving part of the total unpaid."""
    now = datetime.now(UTC)
    for card_id, amount in sorted(draws):
        if amount == 0:
            continue
        balance = await session.scalar(
            update(GiftCard)
            .where(GiftCard.id == card_id, GiftCard.balance >= amount)
            .values(balance=GiftCard.balance - amount)
            .returning(GiftCard.balance)
        )
        if balance is None:
            raise GiftCardInsufficient("a gift card no longer holds the amount to draw")
        session.add(
            GiftCardTransaction(
                id=new_id("gct"),
                store_id=store_id,
                gift_card_id=card_id,
                kind="redemption",
                amount=-amount,
                balance_after=balance,
                order_id=order_id,
                created_at=now,
            )
        )
    await session.flush()


async def release_checkout(session: AsyncSession, store_id: str, order_id: str) -> bool:
    """Give back the order's coupon uses and gift-card draws; only the first call does anything
    (the checkout row is marked released by a conditional UPDATE). Returns whether it did."""
    now = datetime.now(UTC)
    released = await session.scalar(
        update(CompletedCheckout)
        .where(
            CompletedCheckout.store_id == store_id,
            CompletedCheckout.order_id == order_id,
            CompletedCheckout.released_at.is_(None),
        )
        .values(released_at=now)
        .returning(CompletedCheckout.order_id)
    )
    if released is None:
        return False
    coupon_ids = (
        await session.scalars(
            update(CouponRedemption)
            .where(
                CouponRedemption.store_id == store_id,
                CouponRedemption.order_id == order_id,
                CouponRedemption.released_at.is_(None),
            )
            .values(released_at=now)
            .returning(CouponRedemption.coupon_id)
        )
    ).all()
    for coupon_id in sorted(coupon_ids):
        await session.execute(
            update(Coupon)
            .where(Coupon.id == coupon_id, Coupon.used_count > 0)
            .values(used_count=Coupon.used_count - 1)
        )
    draws = await session.execute(
        select(GiftCardTransaction.gift_card_id, GiftCardTransaction.amount).where(
            GiftCardTransaction.store_id == store_id,
            GiftCardTransaction.order_id == order_id,
            GiftCardTransaction.kind == "redemption",
        )
    )
    for card_id, amount in sorted(draws.tuples()):
        balance = await session.scalar(
            update(GiftCard)
            .where(GiftCard.id == card_id)
            .values(balance=GiftCard.balance - amount)
            .returning(GiftCard.balance)
        )
        assert balance is not None
        session.add(
            GiftCardTransaction(
                id=new_id("gct"),
                store_id=store_id,
                gift_card_id=card_id,
                kind="release",
                amount=-amount,
                balance_after=balance,
                order_id=order_id,
                created_at=now,
            )
        )
    await release_for_order(session, store_id, order_id)
    await session.flush()
    return True
