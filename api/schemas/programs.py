"""The referral and sharing programs: what staff set and read, a customer's code and link, the
referrals, share links and a storefront's visit answer. The programs' own bodies
(`ReferralProgram`, `SharingProgram`) live with their rules in services/growth/."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.money import Id
from flow_contract import ReferralReason, ReferralStatus
from services.growth.rewards import CouponReward, Reward


class ReferralProgramOut(BaseModel):
    """The store's referral program (disabled, without rewards, until it is set)."""

    enabled: bool = False
    referrer_reward: Reward | None = None
    referee_reward: CouponReward | None = None
    holding_days: int = 0
    max_rewards_per_referrer: int | None = None


class SharingProgramOut(BaseModel):
    enabled: bool = False
    reward: Reward | None = None
    visits_required: int | None = None
    window_days: int | None = None
    reward_on_order: bool = False


class Earned(BaseModel):
    rewards_granted: int
    rewards_pending: int
    store_credit_granted: dict[str, int] = Field(description="Minor units by currency")
    store_credit_pending: dict[str, int]
    coupons_granted: int


class CustomerReferral(BaseModel):
    customer_id: str
    code: str = Field(description="Created on the first read; unique in the store")
    link: str = Field(description="The storefront URL with `?ref=<code>`")
    earned: Earned


class ReferralOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    referrer_id: str | None = Field(description="None once the customer was erased")
    referee_id: str | None
    order_id: str
    code: str
    status: ReferralStatus
    reason: ReferralReason | None
    amount: int | None = Field(description="The referrer's store credit, in minor units")
    currency: str | None
    hold_until: datetime | None
    rewarded_at: datetime | None
    created_at: datetime


class ShareLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: Id
    product_id: Id | None = None


class ShareLinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    token: str
    url: str
    customer_id: str | None
    product_id: str | None
    visits: int
    orders: int
    qualified_at: datetime | None
    reward_status: str | None
    created_at: datetime


class ShareVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=40)
    visitor_id: Id


class ShareVisitOut(BaseModel):
    counted: bool
    visits: int = Field(description="Unique visitors counted for the link so far")
    reason: str | None = Field(
        default=None,
        description="Why not counted: own_visit | already_counted | window_closed | "
        "program_disabled",
    )
