"""The referral program: its settings, each customer's code and link, and the rules a referee's
order meets before its run (`ReferralRewardWorkflow`) rewards the referrer after the holding
period. The rules are decided here, in one transaction each, so a retried activity or a burst
of orders changes nothing twice: the code's row lock serializes one referrer's referrals (the
limit holds), and a partial unique index allows one referral per referee that is not rejected."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exists, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import (
    ProgramKind,
    ReferralReason,
    ReferralRecorded,
    ReferralStatus,
    RewardSettled,
)
from models import Customer, Order, ProgramConfig, Referral, ReferralCode
from services.checkout.code_text import normalize_coupon, random_code
from services.errors import Conflict, NotFound
from services.growth.rewards import (
    CouponReward,
    Reward,
    check_reward,
    grant,
    load_config,
    save_config,
)
from services.growth.webhooks import WebhookEvent, emit
from services.ids import new_id
from services.pagination import fetch_page

KIND = ProgramKind.REFERRAL
CODE_PREFIX = "REF"
CODE_LENGTH = 8  # 31^8: far more codes than customers of any store
COUNTED = (ReferralStatus.PENDING, ReferralStatus.REWARDED)


class ReferralProgram(BaseModel):
    """The body of `PUT /v1/programs/referral`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    referrer_reward: Reward
    referee_reward: CouponReward | None = None
    holding_days: int = Field(strict=True, ge=0, le=365, description="0: rewarded at once")
    max_rewards_per_referrer: int | None = Field(default=None, strict=True, ge=1, le=1_000_000)


async def put_program(
    session: AsyncSession, store_id: str, program: ReferralProgram
) -> ReferralProgram:
    referrer = await check_reward(session, store_id, program.referrer_reward, "referrer_reward")
    referee = program.referee_reward
    if referee is not None:
        await check_reward(session, store_id, referee, "referee_reward")
    saved = program.model_copy(update={"referrer_reward": referrer})
    await save_config(session, store_id, KIND, saved.model_dump(mode="json"))
    return saved


async def get_program(session: AsyncSession, store_id: str) -> ReferralProgram | None:
    config = await load_config(session, store_id, KIND)
    return ReferralProgram.model_validate(config) if config is not None else None


def share_url(storefront: str, **params: str) -> str:
    """The storefront's URL with query parameters added to any it has."""
    joiner = "&" if "?" in storefront else "?"
    return f"{storefront}{joiner}{urlencode(params)}"


async def code_of(session: AsyncSession, store_id: str, customer_id: str) -> str:
    """The customer's code, created on first read (two first reads at once get the same).
    An erased customer has none (until the platform sends them again)."""
    customer = await session.get(Customer, (store_id, customer_id))
    if customer is None or (
        customer.erased_at is not None and customer.erased_at >= customer.updated_at
    ):
        raise NotFound("customer not found")
    mine = (ReferralCode.store_id == store_id, ReferralCode.customer_id == customer_id)
    for _ in range(5):
        code = await session.scalar(select(ReferralCode.code).where(*mine))
        if code is not None:
            return code
        # DO NOTHING on either unique rule: a clashing code is drawn again, a concurrent
        # first read's code is read back.
        await session.execute(
            insert(ReferralCode)
            .values(
                id=new_id("rfc"),
                store_id=store_id,
                customer_id=customer_id,
                code=CODE_PREFIX + random_code(CODE_LENGTH),
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )
    raise Conflict("no free referral code was found; try again", code="code_space_exhausted")


async def earned(session: AsyncSession, store_id: str, customer_id: str) -> dict[str, Any]:
    """What the customer earned as a referrer: rewards granted and pending, store credit by
    currency, coupons granted."""
    rows = await session.execute(
        select(
            Referral.status,
            Referral.currency,
            func.count(),
            func.coalesce(func.sum(Referral.amount), 0),
        )
        .where(
            Referral.store_id == store_id,
            Referral.referrer_id == customer_id,
            Referral.status.in_(COUNTED),
        )
        .group_by(Referral.status, Referral.currency)
    )
    out: dict[str, Any] = {
        "rewards_granted": 0,
        "rewards_pending": 0,
        "store_credit_granted": {},
        "store_credit_pending": {},
        "coupons_granted": 0,
    }
    for status, currency, count, amount in rows.all():
        state = "granted" if status == ReferralStatus.REWARDED else "pending"
        out[f"rewards_{state}"] += count
        if currency is not None:
            out[f"store_credit_{state}"][currency] = int(amount or 0)
        elif state == "granted":
            out["coupons_granted"] += count
    return out


async def known_codes(
    session: AsyncSession, candidates: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Of (store, code) pairs, those that are live referral codes of a store whose program is
    enabled: the orders carrying them start a referral run."""
    wanted = {(store, normalize_coupon(code)) for store, code in candidates}
    if not wanted:
        return set()
    enabled = exists().where(
        ProgramConfig.store_id == ReferralCode.store_id,
        ProgramConfig.kind == str(KIND),
        ProgramConfig.config["enabled"].as_boolean(),
    )
    rows = await session.execute(
        select(ReferralCode.store_id, ReferralCode.code).where(
            tuple_(ReferralCode.store_id, ReferralCode.code).in_(wanted),
            ReferralCode.disabled_at.is_(None),
            enabled,
        )
    )
    return {(r.store_id, r.code) for r in rows}


def _recorded(row: Referral) -> ReferralRecorded:
    hold = 0.0
    if row.hold_until is not None:
        hold = max((row.hold_until - row.created_at).total_seconds(), 0.0)
    reason = ReferralReason(row.reason) if row.reason else None
    return ReferralRecorded(row.id, ReferralStatus(row.status), reason, hold)


async def _same_person(session: AsyncSession, store_id: str, referrer: str, referee: str) -> bool:
    """The same customer, or two customers with the same email or phone (the projection's)."""
    if referrer == referee:
        return True
    rows = (
        await session.execute(
            select(Customer.email, Customer.phone).where(
                Customer.store_id == store_id, Customer.customer_id.in_([referrer, referee])
            )
        )
    ).all()
    if len(rows) < 2:
        return False
    (email_a, phone_a), (email_b, phone_b) = rows
    same_email = bool(email_a and email_b and email_a.strip().lower() == email_b.strip().lower())
    return same_email or bool(phone_a and phone_a == phone_b)


async def _earlier_order(session: AsyncSession, order: Order) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Order.store_id == order.store_id,
                    Order.customer_id == order.customer_id,
                    Order.placed_at < order.placed_at,
                )
            )
        )
    )


async def _rejection(
    session: AsyncSession, store_id: str, code: ReferralCode | None, order: Order
) -> ReferralReason | None:
    config = await load_config(session, store_id, KIND)
    if config is None or not config.get("enabled"):
        return ReferralReason.PROGRAM_DISABLED
    if code is None or code.customer_id is None or code.disabled_at is not None:
        return ReferralReason.UNKNOWN_CODE
    if await _same_person(session, store_id, code.customer_id, order.customer_id):
        return ReferralReason.SELF_REFERRAL
    if await _earlier_order(session, order):
        return ReferralReason.NOT_FIRST_ORDER
    limit = config.get("max_rewards_per_referrer")
    if limit is not None:
        count = await session.scalar(
            select(func.count()).where(
                Referral.store_id == store_id,
                Referral.referrer_id == code.customer_id,
                Referral.status.in_(COUNTED),
            )
        )
        if (count or 0) >= limit:
            return ReferralReason.LIMIT_REACHED
    return None


def _voided_by(order: Order) -> ReferralReason | None:
    if order.status == "cancelled":
        return ReferralReason.ORDER_CANCELLED
    if order.status == "refunded":
        return ReferralReason.ORDER_REFUNDED
    return None


async def record_referral(
    session: AsyncSession, store_id: str, order_id: str, code: str
) -> ReferralRecorded:
    """The referral `order_id` makes with `code`: pending (held for the program's holding
    days), or rejected with its reason. Asked again, it answers what it recorded."""
    mine = (Referral.store_id == store_id, Referral.order_id == order_id)
    if (existing := await session.scalar(select(Referral).where(*mine))) is not None:
        return _recorded(existing)
    order = await session.get(Order, (store_id, order_id))
    if order is None:  # the store was deleted meanwhile: nothing to record
        return ReferralRecorded("", ReferralStatus.REJECTED, ReferralReason.UNKNOWN_CODE)
    # The code's row lock: one referrer's referrals are decided one at a time.
    code_row = await session.scalar(
        select(ReferralCode)
        .where(ReferralCode.store_id == store_id, ReferralCode.code == normalize_coupon(code))
        .with_for_update()
    )
    reason = await _rejection(session, store_id, code_row, order)
    config = await load_config(session, store_id, KIND) or {}
    reward = config.get("referrer_reward") or {}
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "store_id": store_id,
        "order_id": order_id,
        "code": normalize_coupon(code)[:32],
        "referrer_id": code_row.customer_id if code_row is not None else None,
        "referee_id": order.customer_id,
        "referrer_reward": reward or None,
        "referee_reward": config.get("referee_reward"),
        "amount": reward.get("amount") if reward.get("type") == "store_credit" else None,
        "currency": reward.get("currency") if reward.get("type") == "store_credit" else None,
        "created_at": now,
        "updated_at": now,
    }
    if reason is None:
        voided = _voided_by(order)
        hold = timedelta(days=int(config.get("holding_days", 0)))
        status = ReferralStatus.VOIDED if voided else ReferralStatus.PENDING
        # DO NOTHING on either unique rule: this referee's referral is taken (another order),
        # or this order's row was written by a retry that raced this one.
        inserted = await session.scalar(
            insert(Referral)
            .values(
                id=new_id("ref"),
                status=status,
                reason=voided,
                hold_until=now + hold,
                **values,
            )
            .on_conflict_do_nothing()
            .returning(Referral.id)
        )
        if inserted is not None:
            return _recorded(await _one(session, store_id, order_id))
        reason = ReferralReason.ALREADY_REFERRED
    await session.execute(
        insert(Referral)
        .values(id=new_id("ref"), status=ReferralStatus.REJECTED, reason=reason, **values)
        .on_conflict_do_nothing()
    )
    return _recorded(await _one(session, store_id, order_id))


async def _one(session: AsyncSession, store_id: str, order_id: str) -> Referral:
    row = await session.scalar(
        select(Referral)
        .where(Referral.store_id == store_id, Referral.order_id == order_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def settle_referral(session: AsyncSession, store_id: str, referral_id: str) -> RewardSettled:
    """After the holding period: grant the rewards of a referral still pending (the referrer's
    store credit or coupon, the referee's coupon), record the referrer's message and tell the
    platform (`referral.rewarded`); or void it, if its order was cancelled or refunded in full.
    Under the row lock, once: a retried activity finds it settled."""
    row = await session.scalar(
        select(Referral)
        .where(Referral.store_id == store_id, Referral.id == referral_id)
        .with_for_update()
    )
    if row is None:
        return RewardSettled(ReferralStatus.VOIDED, ReferralReason.UNKNOWN_CODE)
    if row.status != ReferralStatus.PENDING:
        reason = ReferralReason(row.reason) if row.reason else None
        return RewardSettled(ReferralStatus(row.status), reason)
    order = await session.get(Order, (store_id, row.order_id))
    reason = _voided_by(order) if order is not None else ReferralReason.ORDER_CANCELLED
    if reason is None and row.referrer_id is None:
        reason = ReferralReason.CUSTOMER_ERASED
    granted: dict[str, Any] = {}
    if reason is None and row.referrer_reward:
        note = f"referral reward for order {row.order_id}"[:200]
        referrer = await grant(session, store_id, row.referrer_id or "", row.referrer_reward, note)
        if referrer is None:
            reason = ReferralReason.REWARD_UNAVAILABLE
        else:
            granted["referrer"] = referrer
    now = datetime.now(UTC)
    row.updated_at = now
    if reason is not None:
        row.status, row.reason = ReferralStatus.VOIDED, reason
        await session.flush()
        return RewardSettled(ReferralStatus.VOIDED, reason)
    if row.referee_reward and row.referee_id:
        note = f"welcome reward for order {row.order_id}"[:200]
        referee = await grant(session, store_id, row.referee_id, row.referee_reward, note)
        if referee is not None:
            granted["referee"] = referee
    row.status, row.granted, row.rewarded_at = ReferralStatus.REWARDED, granted, now
    row.notice = "rewarded"  # the referrer's message, for the sender to hand over
    await session.flush()
    await emit(
        session,
        store_id,
        WebhookEvent.REFERRAL_REWARDED,
        {
            "referral_id": row.id,
            "order_id": row.order_id,
            "referrer_id": row.referrer_id,
            "referee_id": row.referee_id,
            "referrer_reward": granted.get("referrer"),
            "referee_reward": granted.get("referee"),
        },
    )
    return RewardSettled(ReferralStatus.REWARDED)


async def void_for_order(session: AsyncSession, store_id: str, order_id: str, reason: str) -> None:
    """The order was cancelled or refunded in full: its pending referral is void at once (the
    run finds it so after its hold)."""
    await session.execute(
        update(Referral)
        .where(
            Referral.store_id == store_id,
            Referral.order_id == order_id,
            Referral.status == ReferralStatus.PENDING,
        )
        .values(status=ReferralStatus.VOIDED, reason=reason, updated_at=datetime.now(UTC))
    )


async def list_referrals(
    session: AsyncSession,
    store_id: str,
    *,
    referrer_id: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Referral], str | None]:
    query = select(Referral).where(Referral.store_id == store_id)
    if referrer_id is not None:
        query = query.where(Referral.referrer_id == referrer_id)
    return await fetch_page(session, query, Referral, limit, cursor)


async def erase_customer(session: AsyncSession, store_id: str, customer_id: str) -> None:
    """`customer.erased`: the customer's code is disabled and unlinked, and their id leaves the
    referrals (statuses and amounts stay, so the program's figures still add up)."""
    now = datetime.now(UTC)
    await session.execute(
        update(ReferralCode)
        .where(ReferralCode.store_id == store_id, ReferralCode.customer_id == customer_id)
        .values(customer_id=None, disabled_at=now)
    )
    for column in (Referral.referrer_id, Referral.referee_id):
        await session.execute(
            update(Referral)
            .where(Referral.store_id == store_id, column == customer_id)
            .values({column.key: None, "updated_at": now})
        )
