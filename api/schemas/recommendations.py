"""Recommendation pins and what the storefront is shown."""

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.money import Id


class PinsIn(BaseModel):
    """Replaces the product's pins; a kind left out has none afterwards."""

    model_config = ConfigDict(extra="forbid")

    upsell: list[Id] = Field(default_factory=list, max_length=50)
    cross_sell: list[Id] = Field(default_factory=list, max_length=50)


class PinsOut(BaseModel):
    product_id: str
    upsell: list[str]
    cross_sell: list[str]


class RecommendedProduct(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: str
    title: str
    price: int
    currency: str
    url: str | None
    image_url: str | None
    category_ids: list[str]
    pinned: bool = False


class RecommendationsOut(BaseModel):
    product_id: str
    type: str
    items: list[RecommendedProduct]
