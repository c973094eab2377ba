"""Bundles: every complete set of the components gets the bundle's discount.

A unit belongs to at most one set. Bundles are taken greedily in the order given, each one
forming as many sets as the units not yet in a set allow, taking units line by line in the
engine's canonical line order.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from services.checkout.pricing.money import (
    Percent,
    allocate,
    check_amount,
    check_percent,
    percent_of,
)
from services.checkout.pricing.types import CartLine, build, check_count, check_one_of, check_text


@dataclass(frozen=True)
class BundleComponent:
    """`quantity` units of a product (any variant) or of one exact variant."""

    product_id: str | None = None
    variant_id: str | None = None
    quantity: int = 1

    def __post_init__(self) -> None:
        check_one_of(self.product_id, self.variant_id)
        check_count(self.quantity, "quantity")


@dataclass(frozen=True)
class Bundle:
    """discount_type 'percent': percent of the sets' price; 'fixed': amount off per set."""

    id: str
    components: tuple[BundleComponent, ...]
    discount_type: Literal["percent", "fixed"]
    discount_value: Percent

    def __post_init__(self) -> None:
        check_text(self.id, "id")
        object.__setattr__(self, "components", tuple(self.components))
        if not self.components:
            raise ValueError("components: a bundle needs at least one component")
        if self.discount_type == "percent":
            value = check_percent(self.discount_value, "discount.value")
            object.__setattr__(self, "discount_value", value)
        elif self.discount_type == "fixed":
            check_amount(self.discount_value, "discount.value")
        else:
            raise ValueError(
                f"discount.type: must be 'percent' or 'fixed', got {self.discount_type!r}"
            )


def bundle_from_dict(bundle_id: str, data: Mapping[str, Any]) -> Bundle:
    """Parse the contract's bundle body `{name, components: [...], discount: {type, value}}`.

    Top-level keys other than components and discount (name, timestamps) are ignored."""
    if not isinstance(data, Mapping):
        raise ValueError(f"bundle: must be an object, got {data!r}")
    components = data.get("components")
    if not isinstance(components, list | tuple):
        raise ValueError(f"components: must be a list, got {components!r}")
    parsed = tuple(
        build(
            BundleComponent, item, f"components[{k}]", ("quantity",), ("product_id", "variant_id")
        )
        for k, item in enumerate(components)
    )
    discount = data.get("discount")
    if not isinstance(discount, Mapping):
        raise ValueError(f"discount: must be an object, got {discount!r}")
    if discount.get("value") is None:
        raise ValueError("discount.value: is required")
    discount_type: Any = discount.get("type")
    return Bundle(bundle_id, parsed, discount_type, discount["value"])


def bundle_discounts(
    bundles: Sequence[Bundle], lines: Sequence[CartLine]
) -> list[tuple[Bundle, dict[int, int]]]:
    """For each bundle that formed at least one set with a non-zero discount: the discount per
    line position. A line's share never exceeds the price of its units in the sets."""
    free_units = [line.quantity for line in lines]
    out: list[tuple[Bundle, dict[int, int]]] = []
    positions: dict[tuple[bool, str | None], list[int]] = {}
    for i, line in enumerate(lines):
        positions.setdefault((False, line.product_id), []).append(i)
        positions.setdefault((True, line.variant_id), []).append(i)
    for bundle in bundles:
        matching = [
            positions.get(
                (True, c.variant_id) if c.variant_id is not None else (False, c.product_id), []
            )
            for c in bundle.components
        ]
        if not all(matching):
            continue  # a component not in the cart at all: no set (most bundles, most carts)
        sets, used = _take_sets(bundle, matching, free_units)
        value = {i: units * lines[i].unit_price for i, units in sorted(used.items())}
        total = sum(value.values())
        if bundle.discount_type == "percent":
            amount = percent_of(total, bundle.discount_value)
        else:
            amount = min(int(bundle.discount_value) * sets, total)
        if amount == 0:
            continue
        parts = allocate(amount, list(value.values()))
        out.append((bundle, {i: p for i, p in zip(value, parts, strict=True) if p}))
    return out


def _take_sets(
    bundle: Bundle, matching: list[list[int]], free_units: list[int]
) -> tuple[int, dict[int, int]]:
    """Form as many sets as possible from `free_units` (updated in place); `matching` holds the
    positions of the lines each component matches, in line order.

    Returns the number of sets and the units taken per line position."""
    claimed = [i for m in matching for i in m]
    overlapping = len(claimed) != len(set(claimed))
    sets = 0
    used: dict[int, int] = {}
    while True:
        bound = min(
            sum(free_units[i] for i in m) // c.quantity
            for c, m in zip(bundle.components, matching, strict=True)
        )
        if bound == 0:
            return sets, used
        # Without shared lines the bound is exact; with them, form one set at a time.
        batch = 1 if overlapping else bound
        trial = list(free_units)
        taken: dict[int, int] = {}
        for component, positions in zip(bundle.components, matching, strict=True):
            need = component.quantity * batch
            for i in positions:
                take = min(trial[i], need)
                if take:
                    trial[i] -= take
                    need -= take
                    taken[i] = taken.get(i, 0) + take
            if need:
                return sets, used
        free_units[:] = trial
        sets += batch
        for i, units in taken.items():
            used[i] = used.get(i, 0) + units
