"""Affiliates, their commissions and payouts as staff see them, and a storefront click."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.money import Amount, Currency, Id
from flow_contract import CommissionStatus

Days = Annotated[int, Field(strict=True, ge=0, le=365)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
# Deliberately loose (the platform has the last word): one @, no spaces, a dot in the domain.
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
CouponCode = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][\w-]*$")]


class CommissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["percent", "fixed"]
    value: Annotated[int, Field(strict=True, ge=1, le=10**13)] = Field(
        description="percent: basis points (1250 = 12.50%, at most 10000); fixed: minor units "
        "of the affiliate's currency per order"
    )


class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["manual", "automatic"]
    minimum: Amount = Field(description="A payout is made once the approved balance reaches it")


class AffiliateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    commission: CommissionIn
    cookie_days: Days = 30
    holding_days: Days = Field(default=30, description="0: approved at once")
    payout: PayoutIn
    currency: Currency | None = Field(default=None, description="Default: the store's currency")
    coupon_code: CouponCode | None = Field(
        default=None,
        description="An order using this discount code is this affiliate's, over any click",
    )


class AffiliatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: Email | None = None
    commission: CommissionIn | None = None
    cookie_days: Days | None = None
    holding_days: Days | None = None
    payout: PayoutIn | None = None
    coupon_code: CouponCode | None = Field(default=None, description="null: remove it")
    active: bool | None = Field(default=None, description="An inactive affiliate earns nothing")


class CommissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    type: str
    value: int


class PayoutRuleOut(BaseModel):
    mode: str
    minimum: int


class AffiliateOut(BaseModel):
    id: str
    code: str
    link: str = Field(description="The storefront with ?aff=CODE")
    name: str
    email: str
    coupon_code: str | None
    commission: CommissionOut
    cookie_days: int
    holding_days: int
    payout: PayoutRuleOut
    currency: str
    active: bool
    created_at: datetime


class AffiliateCommissionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    affiliate_id: str
    order_id: str
    source: str = Field(description="coupon | affiliate_id | click")
    amount: int = Field(description="Owed now, after refunds")
    earned_amount: int = Field(description="At the order, before refunds")
    currency: str
    status: CommissionStatus
    payout_id: str | None
    approved_at: datetime | None
    created_at: datetime


class PayoutLine(BaseModel):
    commission_id: str
    order_id: str | None
    adjustment: str | None = Field(description="A clawback's id; null for a commission line")
    amount: int = Field(description="Negative for a clawback")


class PayoutOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    affiliate_id: str
    amount: int
    currency: str
    status: Literal["pending", "paid"]
    trigger: Literal["manual", "automatic"]
    lines: list[PayoutLine]
    created_at: datetime
    paid_at: datetime | None


class AffiliateClickIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=64)]
    visitor_id: Id
    landing_url: Annotated[str, Field(max_length=2000)] | None = None
