"""Group and flash deals: what staff create and read, and what a storefront shows (no ids of
customers there)."""

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.schemas.money import Amount, Currency, Id
from flow_contract import DealStatus

# A deal of more than a million participants is a sale, not a group deal.
Participants = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]


class GroupDealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id | None = Field(default=None, description="This or variant_id")
    variant_id: Id | None = None
    deal_price: Amount
    currency: Currency
    min_participants: Participants = Field(description="1 for a flash deal")
    max_participants: Participants | None = Field(
        default=None, description="The stock of a flash deal; none: no limit"
    )
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now")
    ends_at: AwareDatetime


class GroupDealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: DealStatus
    product_id: str | None
    variant_id: str | None
    participants: int = Field(description="The number accepted")
    min_participants: int
    max_participants: int | None
    deal_price: int
    currency: str
    starts_at: datetime
    ends_at: datetime
    activated_at: datetime | None
    created_at: datetime


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: Id


class StorefrontGroupDeal(BaseModel):
    """What a product page shows: how many joined and how many more are needed."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    status: DealStatus
    product_id: str | None
    variant_id: str | None
    deal_price: int
    currency: str
    participants: int
    needed: int = Field(description="Joins still needed to activate (0 once reached)")
    max_participants: int | None
    starts_at: datetime
    ends_at: datetime
