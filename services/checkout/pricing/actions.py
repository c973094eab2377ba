"""Promotion actions (contract `actions[]`): what they are, how they parse, what they take off.

Every action is computed on what is left of each line after the discounts before it, and never
takes more than that, so nothing goes negative.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, assert_never

from services.checkout.pricing.money import (
    Percent,
    allocate,
    check_amount,
    check_percent,
    percent_of,
)
from services.checkout.pricing.types import CartLine, build, check_count, check_ids, check_text


@dataclass(frozen=True)
class PercentOff:
    """'items': each matching line, rounded per line. 'cart': the matching total, rounded once."""

    percent: Percent
    target: Literal["cart", "items"]
    product_ids: tuple[str, ...] = ()
    category_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "percent", check_percent(self.percent, "percent"))
        if self.target not in ("cart", "items"):
            raise ValueError(f"target: must be 'cart' or 'items', got {self.target!r}")
        check_ids(self, "product_ids")
        check_ids(self, "category_ids")


@dataclass(frozen=True)
class FixedOff:
    """A cart-level amount, capped at what is left of the items, spread pro rata."""

    amount: int

    def __post_init__(self) -> None:
        check_amount(self.amount, "amount")


@dataclass(frozen=True)
class FreeShipping:
    """Takes off whatever shipping is left."""


@dataclass(frozen=True)
class ItemSelector:
    """The `buy` or `get` side of buy_x_get_y; empty filters select every line."""

    quantity: int
    product_ids: tuple[str, ...] = ()
    category_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_count(self.quantity, "quantity")
        check_ids(self, "product_ids")
        check_ids(self, "category_ids")


@dataclass(frozen=True)
class BuyXGetY:
    buy: ItemSelector
    get: ItemSelector
    max_applications: int | None = None

    def __post_init__(self) -> None:
        if self.max_applications is not None:
            check_count(self.max_applications, "max_applications")


@dataclass(frozen=True)
class FreeProduct:
    """The caller fills in catalog facts before pricing: unit_price, category_ids, and the
    product_id of a variant-only gift (without a product_id the action gives nothing)."""

    product_id: str | None = None
    variant_id: str | None = None
    quantity: int = 1
    unit_price: int = 0
    category_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.product_id is None and self.variant_id is None:
            raise ValueError("product_id/variant_id: one of them is required")
        for name in ("product_id", "variant_id"):
            if getattr(self, name) is not None:
                check_text(getattr(self, name), name)
        check_count(self.quantity, "quantity")
        check_amount(self.unit_price, "unit_price")
        check_ids(self, "category_ids")


Action = PercentOff | FixedOff | FreeShipping | BuyXGetY | FreeProduct

_IDS = ("product_ids", "category_ids")
_KINDS = ("percent_off", "fixed_off", "free_shipping", "buy_x_get_y", "free_product")


def action_from_dict(data: Mapping[str, Any], path: str = "action") -> Action:
    """Parse one contract action object; ValueError names the offending field.

    free_product also accepts the caller-supplied `unit_price` and `category_ids`."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: must be an object, got {data!r}")
    kind = data.get("type")
    if kind == "percent_off":
        return build(PercentOff, data, path, ("percent", "target"), _IDS)
    if kind == "fixed_off":
        return build(FixedOff, data, path, ("amount",))
    if kind == "free_shipping":
        return build(FreeShipping, data, path)
    if kind == "free_product":
        optional = ("product_id", "variant_id", "unit_price", "category_ids")
        return build(FreeProduct, data, path, ("quantity",), optional)
    if kind == "buy_x_get_y":
        sides = {}
        for side in ("buy", "get"):
            if data.get(side) is None:
                raise ValueError(f"{path}.{side}: is required")
            sides[side] = build(ItemSelector, data[side], f"{path}.{side}", ("quantity",), _IDS)
        return build(BuyXGetY, {**data, **sides}, path, ("buy", "get"), ("max_applications",))
    raise ValueError(f"{path}.type: must be one of {', '.join(_KINDS)}, got {kind!r}")


@dataclass(frozen=True)
class Effect:
    """What one action takes off: per cart line (by position), off shipping, and an added item
    that is fully discounted."""

    lines: dict[int, int] = field(default_factory=dict)
    shipping: int = 0
    added: CartLine | None = None


class LineSelector:
    """The positions of the lines a product/category filter selects: a line matches if its
    product is in `product_ids` or one of its categories is in `category_ids`; no filter selects
    every line. A store's promotions repeat the same filters and the lines do not change while
    one cart is priced, so each filter is worked out once per cart rather than once per action."""

    def __init__(self, lines: Sequence[CartLine]) -> None:
        self.lines = lines
        self._chosen: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[int, ...]] = {}
        # The lines of each product and category, so a filter costs its ids, not the cart.
        self._by_product: dict[str, list[int]] = {}
        self._by_category: dict[str, list[int]] = {}
        for i, line in enumerate(lines):
            self._by_product.setdefault(line.product_id, []).append(i)
            for category in line.category_ids:
                self._by_category.setdefault(category, []).append(i)

    def __call__(
        self, product_ids: tuple[str, ...], category_ids: tuple[str, ...]
    ) -> tuple[int, ...]:
        key = (product_ids, category_ids)
        chosen = self._chosen.get(key)
        if chosen is None:
            if not product_ids and not category_ids:
                chosen = tuple(range(len(self.lines)))
            else:
                found: set[int] = set()
                for product_id in product_ids:
                    found.update(self._by_product.get(product_id, ()))
                for category_id in category_ids:
                    found.update(self._by_category.get(category_id, ()))
                chosen = tuple(sorted(found))
            self._chosen[key] = chosen
        return chosen


def action_effect(
    action: Action,
    lines: Sequence[CartLine],
    remaining: Sequence[int],
    shipping_left: int,
    select: LineSelector | None = None,
) -> Effect:
    """The effect of `action` on `lines`, of which `remaining` is what is still to pay.
    `select` (for these `lines`) may be shared by the actions pricing one cart."""
    select = select or LineSelector(lines)
    match action:
        case PercentOff():
            return Effect(lines=_percent_off(action, select, remaining))
        case FixedOff(amount=amount):
            everything = range(len(lines))
            return Effect(lines=_spread(min(amount, sum(remaining)), everything, remaining))
        case FreeShipping():
            return Effect(shipping=shipping_left)
        case BuyXGetY():
            return Effect(lines=_buy_x_get_y(action, lines, remaining, select))
        case FreeProduct():
            if action.product_id is None:
                return Effect()
            gift = CartLine(
                action.product_id,
                action.variant_id,
                action.quantity,
                action.unit_price,
                action.category_ids,
            )
            return Effect(added=gift)
        case _:
            assert_never(action)


def _spread(amount: int, indexes: Sequence[int], remaining: Sequence[int]) -> dict[int, int]:
    """Largest-remainder split of `amount` over `indexes`, weighted by what is left of each."""
    parts = allocate(amount, [remaining[i] for i in indexes])
    return {i: part for i, part in zip(indexes, parts, strict=True) if part}


def _percent_off(
    action: PercentOff, select: LineSelector, remaining: Sequence[int]
) -> dict[int, int]:
    chosen = select(action.product_ids, action.category_ids)
    if action.target == "items":
        return {i: percent_of(remaining[i], action.percent) for i in chosen}
    amount = percent_of(sum(remaining[i] for i in chosen), action.percent)
    return _spread(amount, chosen, remaining)


def _buy_x_get_y(
    action: BuyXGetY, lines: Sequence[CartLine], remaining: Sequence[int], select: LineSelector
) -> dict[int, int]:
    """Each application needs `buy.quantity` paid units and `get.quantity` free units, all
    distinct; the free units are the cheapest qualifying `get` units (by what is left per unit).

    With b buy units, of which some also qualify as `get`, and g_only units that qualify only as
    `get`, n applications fit iff n*X <= b, n*Y <= all get units and n*(X+Y) <= b + g_only.
    """
    buy, get = action.buy, action.get
    buying = select(buy.product_ids, buy.category_ids)
    getting = select(get.product_ids, get.category_ids)
    in_buy = set(buying)
    buy_units = sum(lines[i].quantity for i in buying)
    get_units = sum(lines[i].quantity for i in getting)
    get_only = sum(lines[i].quantity for i in getting if i not in in_buy)
    applications = min(
        buy_units // buy.quantity,
        get_units // get.quantity,
        (buy_units + get_only) // (buy.quantity + get.quantity),
    )
    if action.max_applications is not None:
        applications = min(applications, action.max_applications)
    need = applications * get.quantity
    # How many free units may come from lines that also count as bought units.
    spare_buy_units = buy_units - applications * buy.quantity
    if need == 0:
        return {}
    # What is left per unit, remaining/quantity, scaled by the quantities' LCM: exact integers.
    scale = math.lcm(*(lines[i].quantity for i in getting))
    cheapest_first = sorted(getting, key=lambda i: (remaining[i] * (scale // lines[i].quantity), i))
    out: dict[int, int] = {}
    for i in cheapest_first:
        quantity = lines[i].quantity
        take = min(quantity, need, spare_buy_units if i in in_buy else need)
        if i in in_buy:
            spare_buy_units -= take
        need -= take
        # round_half_up(remaining * take / quantity), in integers (remaining is never negative)
        amount = (2 * remaining[i] * take + quantity) // (2 * quantity)
        if amount:
            out[i] = amount
        if need == 0:
            break
    return out
