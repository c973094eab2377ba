"""Coupon bodies: one code, or a batch of generated ones."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.schemas.money import Id

Usage = Literal["single_use_per_customer", "limited", "unrestricted"]
USAGE_DOC = "single_use_per_customer | limited (give usage_limit) | unrestricted"


class CouponTermsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promotion_id: Id
    usage: Usage = Field(description=USAGE_DOC)
    usage_limit: int | None = Field(None, ge=1, le=10**9)
    expires_at: AwareDatetime | None = None


class CouponIn(CouponTermsIn):
    code: str | None = Field(
        None, min_length=1, max_length=64, description="Generated when absent; case-insensitive"
    )
    customer_id: Id | None = Field(None, description="Valid for this customer only")


class CouponBatchIn(CouponTermsIn):
    count: int = Field(ge=1, le=10_000)
    prefix: str | None = Field(None, max_length=20)


class CouponOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    promotion_id: str
    code: str
    usage: str
    usage_limit: int | None
    used_count: int
    customer_id: str | None
    expires_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime


class CouponBatchOut(BaseModel):
    promotion_id: str
    count: int
    codes: list[str]
