"""Recommendation pins and what the storefront is shown."""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.money import Id
from services.urls import web_url_or_none


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

    @field_validator("url", "image_url")
    @classmethod
    def _web_only(cls, value: str | None) -> str | None:
        """Rows stored before URLs were checked may hold a `javascript:` link: never served."""
        return web_url_or_none(value)


class RecommendationsOut(BaseModel):
    product_id: str
    type: str
    items: list[RecommendedProduct]
