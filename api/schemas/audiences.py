"""Audiences as staff create and read them (CONTRACT.md "Channels")."""

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.money import Amount, Currency, Id

AudienceNetworkName = Literal["google_ads", "meta"]


class SpentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    currency: Currency


class AudienceRule(BaseModel):
    """Every part given must hold (AND); at least one part."""

    model_config = ConfigDict(extra="forbid")

    shopper_groups: Annotated[list[Id], Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="In any of these shopper groups"
    )
    purchased_within_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = Field(
        default=None, description="Placed an order (not cancelled) within these days"
    )
    cart_abandoned: Literal[True] | None = Field(
        default=None, description="Has a cart with items, not ordered, untouched for an hour"
    )
    min_total_spent: SpentIn | None = Field(
        default=None, description="Orders (less refunds) in this currency add up to at least"
    )

    @model_validator(mode="after")
    def one_part_at_least(self) -> Self:
        if not self.model_dump(exclude_none=True):
            raise ValueError("a rule needs at least one part")
        return self


class AudienceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    rule: AudienceRule
    networks: Annotated[list[AudienceNetworkName], Field(min_length=1, max_length=2)]

    @model_validator(mode="after")
    def distinct_networks(self) -> Self:
        if len(set(self.networks)) != len(self.networks):
            raise ValueError("each network once")
        return self


class AudienceNetworkOut(BaseModel):
    network: AudienceNetworkName
    remote_id: str | None = Field(description="The list's id on the network, once created")
    members: int = Field(description="Customers uploaded to the network's list now")
    last_sync_at: datetime | None
    last_sync_status: Literal["pending", "ok", "error"]
    last_error: str | None
    added: int = Field(description="Added by the last successful sync")
    removed: int = Field(description="Removed by the last successful sync")


class AudienceOut(BaseModel):
    id: str
    name: str
    rule: AudienceRule
    networks: list[AudienceNetworkOut]
    created_at: datetime
    updated_at: datetime
