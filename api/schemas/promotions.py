"""Promotion bodies. Conditions and actions are checked by the pricing parser, which names the
offending field (`actions.0.percent`)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from api.schemas.money import Currency

CONDITIONS_DOC = (
    'Each one of {"type": "cart_total_min"|"cart_total_max", "amount"}, '
    '{"type": "shopper_group", "group"}, {"type": "product_in_cart", "product_id"|"variant_id"}, '
    '{"type": "category_in_cart", "category_id"}, {"type": "first_order"}; all must hold.'
)
ACTIONS_DOC = (
    'Each one of {"type": "percent_off", "percent", "target": "cart"|"items", "product_ids"?, '
    '"category_ids"?}, {"type": "fixed_off", "amount"}, {"type": "free_shipping"}, '
    '{"type": "buy_x_get_y", "buy": {"product_ids"?, "category_ids"?, "quantity"}, "get": {...}, '
    '"max_applications"?}, {"type": "free_product", "product_id"|"variant_id", "quantity"}.'
)
Conditions = list[dict[str, Any]]
Actions = list[dict[str, Any]]


class PromotionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    priority: int = Field(0, ge=-1_000_000, le=1_000_000, description="Higher first")
    exclusive: bool = False
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    requires_coupon: bool = False
    currency: Currency | None = Field(
        None, description="Defaults to the store's when a condition or action is an amount"
    )
    conditions: Conditions = Field(default_factory=list, max_length=50, description=CONDITIONS_DOC)
    actions: Actions = Field(min_length=1, max_length=20, description=ACTIONS_DOC)


class PromotionPatch(BaseModel):
    """Only the fields given change; `starts_at`/`ends_at` may be set to null."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    priority: int | None = Field(None, ge=-1_000_000, le=1_000_000)
    exclusive: bool | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    requires_coupon: bool | None = None
    currency: Currency | None = None
    conditions: Conditions | None = Field(None, max_length=50)
    actions: Actions | None = Field(None, min_length=1, max_length=20)

    @field_validator(
        "name", "priority", "exclusive", "requires_coupon", "conditions", "actions", mode="before"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


class PromotionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    priority: int
    exclusive: bool
    starts_at: datetime | None
    ends_at: datetime | None
    requires_coupon: bool
    currency: str | None
    conditions: Conditions
    actions: Actions
    status: Literal["scheduled", "active", "ended", "disabled"]
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None
