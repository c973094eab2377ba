"""Shopper tokens: the platform's backend vouches for a signed-in shopper."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.schemas.money import Id
from services.checkout.shopper_tokens import (
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    MIN_TTL_SECONDS,
)


class ShopperTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: Id
    ttl_seconds: int = Field(
        default=DEFAULT_TTL_SECONDS,
        strict=True,
        ge=MIN_TTL_SECONDS,
        le=MAX_TTL_SECONDS,
        description="How long the token is good for",
    )


class ShopperTokenOut(BaseModel):
    token: str = Field(description="Pass it as `shopper_token` to /v1/checkout/evaluate")
    expires_at: AwareDatetime
