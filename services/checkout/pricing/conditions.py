"""Promotion conditions (contract `conditions[]`): what they are, how they parse, when they hold."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.checkout.pricing.money import check_amount
from services.checkout.pricing.types import Cart, CustomerFacts, build, check_one_of, check_text


@dataclass(frozen=True)
class CartTotalMin:
    """Subtotal before any discount >= amount."""

    amount: int

    def __post_init__(self) -> None:
        check_amount(self.amount, "amount")

    def holds(self, cart: Cart, customer: CustomerFacts | None) -> bool:
        return cart.subtotal >= self.amount


@dataclass(frozen=True)
class CartTotalMax:
    """Subtotal before any discount <= amount."""

    amount: int

    def __post_init__(self) -> None:
        check_amount(self.amount, "amount")

    def holds(self, cart: Cart, customer: CustomerFacts | None) -> bool:
        return cart.subtotal <= self.amount


@dataclass(frozen=True)
class ShopperGroup:
    group: str

    def __post_init__(self) -> None:
        check_text(self.group, "group")

    def holds(self, cart: Cart, customer: CustomerFacts | None) -> bool:
        return customer is not None and self.group in customer.shopper_groups


@dataclass(frozen=True)
class ProductInCart:
    """A line of that product (any variant), or of that exact variant."""

    product_id: str | None = None
    variant_id: str | None = None

    def __post_init__(self) -> None:
        check_one_of(self.product_id, self.variant_id)

    def holds(self, cart: Cart, customer: CustomerFacts | None) -> bool:
        if self.variant_id is not None:
            return self.variant_id in cart.variant_ids
        return self.product_id in cart.product_ids


@dataclass(frozen=True)
class CategoryInCart:
    category_id: str

    def __post_init__(self) -> None:
        check_text(self.category_id, "category_id")

    def holds(self, cart: Cart, customer: CustomerFacts | None) -> bool:
        return self.category_id in cart.category_ids


@dataclass(frozen=True)
class FirstOrder:
    """The shopper is a known customer placing their first order."""

    def holds(self, cart: Cart, customer: CustomerFacts | None) -> bool:
        return customer is not None and customer.customer_id is not None and customer.is_first_order


Condition = CartTotalMin | CartTotalMax | ShopperGroup | ProductInCart | CategoryInCart | FirstOrder

_FIELDS: dict[str, tuple[Callable[..., Condition], tuple[str, ...], tuple[str, ...]]] = {
    "cart_total_min": (CartTotalMin, ("amount",), ()),
    "cart_total_max": (CartTotalMax, ("amount",), ()),
    "shopper_group": (ShopperGroup, ("group",), ()),
    "product_in_cart": (ProductInCart, (), ("product_id", "variant_id")),
    "category_in_cart": (CategoryInCart, ("category_id",), ()),
    "first_order": (FirstOrder, (), ()),
}


def condition_from_dict(data: Mapping[str, Any], path: str = "condition") -> Condition:
    """Parse one contract condition object; ValueError names the offending field."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: must be an object, got {data!r}")
    kind = data.get("type")
    if kind not in _FIELDS:
        raise ValueError(f"{path}.type: must be one of {', '.join(_FIELDS)}, got {kind!r}")
    cls, required, optional = _FIELDS[kind]
    return build(cls, data, path, required, optional)


def condition_holds(condition: Condition, cart: Cart, customer: CustomerFacts | None) -> bool:
    """Conditions look at the cart as sent (before any discount) and at the customer facts."""
    return condition.holds(cart, customer)


def conditions_hold(
    conditions: tuple[Condition, ...], cart: Cart, customer: CustomerFacts | None
) -> bool:
    """All of them (an empty list holds). A loop of method calls: this runs for every live
    promotion of every cart."""
    for condition in conditions:  # noqa: SIM110 (a generator in all() costs more here)
        if not condition.holds(cart, customer):
            return False
    return True
