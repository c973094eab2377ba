"""The reward path the referral and sharing programs share: what a reward is (store credit, or
a coupon of a promotion), how a program's setting of one is checked, and how one is granted to
a customer (a store-credit ledger entry, or a unique single-use coupon of their own)."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ProgramConfig, Store
from services.checkout.coupons import CouponTerms, _coupon_promotion, create_coupon
from services.checkout.store_credit import post_store_credit
from services.errors import DomainError, InvalidInput, NotFound, invalid_field

MAX_REWARD = 10**9  # ten million in minor units: a reward beyond it is a typo
PromotionId = Annotated[str, Field(min_length=1, max_length=40)]


class StoreCreditReward(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["store_credit"]
    amount: int = Field(strict=True, ge=1, le=MAX_REWARD, description="Integer minor units")
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="Default: the store's currency"
    )


class CouponReward(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["coupon"]
    promotion_id: PromotionId = Field(
        description="A promotion that requires a coupon: each reward is a single-use code of it"
    )


Reward = Annotated[StoreCreditReward | CouponReward, Field(discriminator="type")]


async def check_reward(
    session: AsyncSession, store_id: str, reward: StoreCreditReward | CouponReward, field: str
) -> StoreCreditReward | CouponReward:
    """The reward as the program stores it: the store's currency filled in, a coupon's
    promotion checked to be this store's and to take coupons (422 naming `field`)."""
    if isinstance(reward, StoreCreditReward):
        if reward.currency is None:
            store = await session.get(Store, store_id)
            if store is None:
                raise NotFound("store not found")
            reward = reward.model_copy(update={"currency": store.currency})
        return reward
    try:
        await _coupon_promotion(session, store_id, reward.promotion_id)
    except InvalidInput as exc:
        raise invalid_field(f"{field}.promotion_id", exc.message.partition(": ")[2]) from exc
    return reward


async def load_config(session: AsyncSession, store_id: str, kind: str) -> dict[str, Any] | None:
    row = await session.get(ProgramConfig, (store_id, kind))
    return dict(row.config) if row is not None else None


async def save_config(
    session: AsyncSession, store_id: str, kind: str, config: dict[str, Any]
) -> None:
    row = await session.scalar(
        select(ProgramConfig)
        .where(ProgramConfig.store_id == store_id, ProgramConfig.kind == kind)
        .with_for_update()
    )
    now = datetime.now(UTC)
    if row is None:
        session.add(ProgramConfig(store_id=store_id, kind=kind, config=config, updated_at=now))
    else:
        row.config, row.updated_at = config, now
    await session.flush()


async def grant(
    session: AsyncSession, store_id: str, customer_id: str, reward: dict[str, Any], reason: str
) -> dict[str, Any] | None:
    """Grant `reward` (a stored program setting) to the customer, in the caller's transaction;
    None when it cannot be granted any more (the promotion ended, the customer is unknown):
    the caller records that, rather than retrying for ever."""
    try:
        async with session.begin_nested():
            if reward["type"] == "store_credit":
                entry = await post_store_credit(
                    session,
                    store_id,
                    customer_id,
                    amount=int(reward["amount"]),
                    currency=str(reward["currency"]),
                    reason=reason,
                )
                return {
                    "type": "store_credit",
                    "amount": entry.amount,
                    "currency": entry.currency,
                    "entry_id": entry.id,
                }
            terms = CouponTerms(usage="limited", usage_limit=1, customer_id=customer_id)
            coupon = await create_coupon(
                session, store_id, str(reward["promotion_id"]), terms, prefix="REWARD-"
            )
            return {
                "type": "coupon",
                "promotion_id": coupon.promotion_id,
                "coupon_id": coupon.id,
                "code": coupon.code,
            }
    except DomainError:
        return None
