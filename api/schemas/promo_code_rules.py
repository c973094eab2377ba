"""Promo-code rule bodies."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.money import Id


class PromoCodeRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promotion_id: Id
    prefix: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,20}$")
    expires_after_days: int = Field(ge=1, le=3650)
    max_codes: int | None = Field(None, ge=1)


class PromoCodeRulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class PromoCodeRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    promotion_id: str
    prefix: str | None
    expires_after_days: int
    max_codes: int | None
    issued_count: int
    enabled: bool
    created_at: datetime
