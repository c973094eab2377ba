"""Frozen inputs and outputs of the pricing function. All money is integer minor units.

Each class checks its own fields on construction and raises ValueError naming the field, so an
instance that exists is one the engine can price.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar

from services.checkout.pricing.money import check_amount

Source = Literal["automatic", "coupon", "bundle"]
T = TypeVar("T")


def build(
    cls: Callable[..., T],
    data: object,
    path: str,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
) -> T:
    """Construct `cls` from a JSON object, prefixing any field error with `path`."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: must be an object, got {data!r}")
    unknown = sorted(set(data) - {"type", *required, *optional})
    if unknown:
        raise ValueError(f"{path}.{unknown[0]}: unknown field")
    missing = [name for name in required if data.get(name) is None]
    if missing:
        raise ValueError(f"{path}.{missing[0]}: is required")
    kwargs = {name: data[name] for name in (*required, *optional) if data.get(name) is not None}
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ValueError(f"{path}.{exc}") from None


def check_ids(obj: object, name: str) -> None:
    """Normalise the list of ids in `obj.name` to a tuple of str (JSON gives lists)."""
    value = getattr(obj, name)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{name}: must be a list of non-empty strings, got {value!r}")
    object.__setattr__(obj, name, tuple(value))


def check_count(value: object, name: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}, got {value!r}")


def check_text(value: object, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: must be a non-empty string, got {value!r}")


def check_one_of(product_id: object, variant_id: object) -> None:
    """Exactly one of product_id / variant_id, as the contract's `product_id | variant_id`."""
    if (product_id is None) == (variant_id is None):
        raise ValueError("product_id/variant_id: exactly one of them is required")
    if variant_id is None:
        check_text(product_id, "product_id")
    else:
        check_text(variant_id, "variant_id")


# ---- cart and shopper ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CartLine:
    product_id: str
    variant_id: str | None
    quantity: int
    unit_price: int
    category_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The usual line, checked in one expression (a cart has hundreds of lines, each built
        # once per checkout); anything else goes through the checks that name the field.
        if (
            type(self.product_id) is str
            and self.product_id
            and (self.variant_id is None or (type(self.variant_id) is str and self.variant_id))
            and type(self.quantity) is int
            and self.quantity >= 1
            and type(self.unit_price) is int
            and self.unit_price >= 0
            and type(self.category_ids) is tuple
            and all(type(c) is str and c for c in self.category_ids)
        ):
            return
        check_text(self.product_id, "product_id")
        if self.variant_id is not None:
            check_text(self.variant_id, "variant_id")
        check_count(self.quantity, "quantity")
        check_amount(self.unit_price, "unit_price")
        check_ids(self, "category_ids")

    @property
    def total(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Cart:
    currency: str
    lines: tuple[CartLine, ...]
    shipping: int = 0

    def __post_init__(self) -> None:
        check_text(self.currency, "currency")
        object.__setattr__(self, "lines", tuple(self.lines))
        check_amount(self.shipping, "shipping")

    # Conditions ask these of the same cart once per promotion: compute them once.
    @cached_property
    def subtotal(self) -> int:
        return sum(line.total for line in self.lines)

    @cached_property
    def product_ids(self) -> frozenset[str]:
        return frozenset(line.product_id for line in self.lines)

    @cached_property
    def variant_ids(self) -> frozenset[str | None]:
        return frozenset(line.variant_id for line in self.lines)

    @cached_property
    def category_ids(self) -> frozenset[str]:
        return frozenset(c for line in self.lines for c in line.category_ids)


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: str | None = None
    shopper_groups: frozenset[str] = frozenset()
    is_first_order: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "shopper_groups", frozenset(self.shopper_groups))


# ---- coupons and gift cards ------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedCoupon:
    """A code the caller already found valid (known, live, not exhausted) and its promotion."""

    code: str
    promotion_id: str

    def __post_init__(self) -> None:
        check_text(self.code, "code")
        check_text(self.promotion_id, "promotion_id")


@dataclass(frozen=True)
class GiftCardBalance:
    code: str
    balance: int
    currency: str

    def __post_init__(self) -> None:
        check_text(self.code, "code")
        check_amount(self.balance, "balance")
        check_text(self.currency, "currency")


# ---- output -------------------------------------------------------------------------------


# (index, amount): what a discount takes off one line; `index` points into cart.lines +
# added_items. A plain pair, made in C by the sort that orders a discount's lines: a priced cart
# has hundreds of them, and even a NamedTuple made per line cost a tenth of pricing one.
LineAmount = tuple[int, int]


@dataclass(frozen=True)
class Discount:
    """One per applied bundle or promotion. `amount` is what it takes off the items (its lines
    add up to it); `shipping_amount` is its share of shipping_discount (not in the contract)."""

    source: Source
    promotion_id: str | None
    bundle_id: str | None
    code: str | None
    amount: int
    lines: tuple[LineAmount, ...]
    shipping_amount: int = 0

    def to_contract_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source}
        if self.promotion_id is not None:
            out["promotion_id"] = self.promotion_id
        if self.bundle_id is not None:
            out["bundle_id"] = self.bundle_id
        if self.code is not None:
            out["code"] = self.code
        out["amount"] = self.amount
        out["lines"] = [{"index": i, "amount": a} for i, a in self.lines]
        return out


@dataclass(frozen=True)
class GiftCardUse:
    code: str
    amount: int


@dataclass(frozen=True)
class RejectedCode:
    code: str
    reason: str


@dataclass(frozen=True)
class PricedCart:
    subtotal: int
    discounts: tuple[Discount, ...]
    shipping: int
    shipping_discount: int
    total: int
    gift_cards: tuple[GiftCardUse, ...]
    amount_due: int
    added_items: tuple[CartLine, ...] = field(default=())
    rejected_codes: tuple[RejectedCode, ...] = field(default=())

    def to_contract_dict(self) -> dict[str, Any]:
        """The JSON body of `POST /v1/checkout/evaluate` (CONTRACT.md)."""
        return {
            "subtotal": self.subtotal,
            "discounts": [d.to_contract_dict() for d in self.discounts],
            "shipping": self.shipping,
            "shipping_discount": self.shipping_discount,
            "total": self.total,
            "gift_cards": [{"code": g.code, "amount": g.amount} for g in self.gift_cards],
            "amount_due": self.amount_due,
            "added_items": [_item_dict(line) for line in self.added_items],
            "rejected_codes": [{"code": r.code, "reason": r.reason} for r in self.rejected_codes],
        }


def _item_dict(line: CartLine) -> dict[str, Any]:
    """Same shape as a request item: {product_id, variant_id?, quantity, unit_price}."""
    out: dict[str, Any] = {"product_id": line.product_id}
    if line.variant_id is not None:
        out["variant_id"] = line.variant_id
    out["quantity"] = line.quantity
    out["unit_price"] = line.unit_price
    return out
