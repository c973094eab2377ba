"""Who a campaign is for, as a pure rule over what the storefront and the projections say about
this request. Every condition a campaign sets must hold; an unset one does not restrict."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Visit:
    device_type: str
    product_id: str | None = None
    # The page's category and, on a product page, the product's categories in the catalog.
    category_ids: frozenset[str] = field(default_factory=frozenset)
    # The customer's groups in the customer projection (none for an anonymous visitor).
    shopper_groups: frozenset[str] = field(default_factory=frozenset)
    # Never served an ad of this store before this request.
    new_visitor: bool = False


def _any_of(wanted: Iterable[str] | None, have: Iterable[str]) -> bool:
    return bool(set(wanted or ()) & set(have))


def matches(targeting: dict[str, Any], visit: Visit) -> bool:
    """`category_ids` and `product_ids` together mean "this part of the catalog": a request in
    either matches."""
    devices = targeting.get("device_types")
    if devices and visit.device_type not in devices:
        return False
    groups = targeting.get("shopper_groups")
    if groups and not _any_of(groups, visit.shopper_groups):
        return False
    categories, products = targeting.get("category_ids"), targeting.get("product_ids")
    if categories or products:
        in_category = _any_of(categories, visit.category_ids)
        in_products = visit.product_id is not None and visit.product_id in (products or ())
        if not (in_category or in_products):
            return False
    return not (targeting.get("new_visitors_only") and not visit.new_visitor)


def needs_customer(targetings: Iterable[dict[str, Any]]) -> bool:
    return any(t.get("shopper_groups") for t in targetings)


def needs_catalog(targetings: Iterable[dict[str, Any]]) -> bool:
    return any(t.get("category_ids") for t in targetings)


def needs_history(targetings: Iterable[dict[str, Any]]) -> bool:
    return any(t.get("new_visitors_only") for t in targetings)
