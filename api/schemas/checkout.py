"""Checkout bodies: the cart in (CONTRACT.md), the priced cart out."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from api.schemas.money import Amount, Currency, Id

Code = Annotated[str, Field(min_length=1, max_length=100)]


class CheckoutItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id
    variant_id: Id | None = None
    quantity: int = Field(strict=True, ge=1, le=100_000)
    unit_price: Amount


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: Currency
    items: list[CheckoutItem] = Field(min_length=1, max_length=500)
    shipping: Amount = 0
    customer_id: Id | None = Field(
        default=None,
        description="Trusted with a secret key; with a publishable key the cart is priced as a "
        "guest's unless shopper_token vouches for the customer",
    )
    shopper_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="From POST /v1/shopper-tokens: prices the cart for that customer",
    )
    coupon_codes: list[Code] = Field(default_factory=list, max_length=20)
    gift_card_codes: list[Code] = Field(default_factory=list, max_length=10)
    store_credit: Amount = Field(
        default=0,
        description="Store credit of `customer_id` to apply, capped at what is due (and, on "
        "evaluate, at the balance); complete draws it in full or answers 409",
    )

    @field_validator("store_credit")
    @classmethod
    def _credit_needs_customer(cls, value: int, info: ValidationInfo) -> int:
        # customer_id is declared first, so it is validated by now.
        if value and info.data.get("customer_id") is None:
            raise ValueError("store_credit needs the customer_id whose credit it is")
        return value


class CheckoutCompleteIn(CheckoutIn):
    order_id: Id = Field(description="Idempotency key: a retry returns the first result")


class LineAmountOut(BaseModel):
    index: int = Field(description="Position in items, then in added_items")
    amount: int


class DiscountOut(BaseModel):
    source: Literal["automatic", "coupon", "bundle"]
    promotion_id: str | None = None
    bundle_id: str | None = None
    code: str | None = None
    amount: int
    lines: list[LineAmountOut]


class GiftCardUseOut(BaseModel):
    code: str = Field(description="Masked: last four characters")
    amount: int


class AddedItemOut(BaseModel):
    product_id: str
    variant_id: str | None = None
    quantity: int
    unit_price: int


class RejectedCodeOut(BaseModel):
    code: str
    reason: str = Field(
        description="Publishable key: always invalid_code. Secret key: unknown, expired, "
        "not_started, exhausted, already_used_by_customer, not_eligible, currency_mismatch, "
        "duplicate"
    )


class PricedCartOut(BaseModel):
    subtotal: int
    discounts: list[DiscountOut]
    shipping: int
    shipping_discount: int
    total: int
    gift_cards: list[GiftCardUseOut]
    store_credit_applied: int = 0
    amount_due: int = Field(description="total - gift cards - store credit")
    added_items: list[AddedItemOut]
    rejected_codes: list[RejectedCodeOut]


class CompletedOut(PricedCartOut):
    order_id: str
