"""Bundle bodies."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.money import Currency, Id


class BundleComponentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id | None = None
    variant_id: Id | None = None
    quantity: int = Field(1, ge=1, le=1000)


class BundleDiscountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["percent", "fixed"]
    value: int | float = Field(description="percent: (0, 100]; fixed: minor units off per set")


class BundleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    components: list[BundleComponentIn] = Field(min_length=1, max_length=20)
    discount: BundleDiscountIn
    currency: Currency | None = Field(None, description="Defaults to the store's for 'fixed'")


class BundleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    components: list[dict[str, str | int]]
    discount: dict[str, str | int | float]
    currency: str | None
    disabled_at: datetime | None
    created_at: datetime
