"""Everything `price_cart` needs for one checkout, read in a handful of queries: the store's
live promotions and bundles, the catalog facts of the lines, the customer's facts and what the
codes given are worth. Evaluate and complete both go through here, so the same body and state
give the same inputs."""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BindParameter, Select, bindparam, exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CompletedCheckout, Customer, Order
from services.checkout import pricing
from services.checkout.catalog import (
    catalog_value,
    gift_variants,
    live_state,
    products,
    with_gift_prices,
)
from services.checkout.codes import ResolvedCodes, resolve_coupons, resolve_gift_cards


class CheckoutItem(NamedTuple):
    product_id: str
    variant_id: str | None
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class CheckoutRequest:
    currency: str
    items: tuple[CheckoutItem, ...]
    shipping: int = 0
    customer_id: str | None = None
    coupon_codes: tuple[str, ...] = ()
    gift_card_codes: tuple[str, ...] = ()
    # A publishable key's view (services/checkout/shopper.py); the caller sets customer_id to
    # None when it is not vouched for.
    shopper_view: bool = False
    store_credit: int = 0  # the amount of the customer's store credit to apply


@dataclass(frozen=True)
class CheckoutInputs:
    cart: pricing.Cart
    promotions: list[pricing.Promotion]
    bundles: list[pricing.Bundle]
    customer: pricing.CustomerFacts | None
    codes: ResolvedCodes
    # Only for the shopper view with gift cards: see checkout_catalog.catalog_value.
    catalog_value: int | None = None


def _facts_statement(first_order: bool) -> Select[list[str], bool]:
    store: BindParameter[str] = bindparam("store_id")
    customer: BindParameter[str] = bindparam("customer_id")
    order: BindParameter[str] = bindparam("order_id")
    groups = (
        select(Customer.shopper_groups)
        .where(Customer.store_id == store, Customer.customer_id == customer)
        .scalar_subquery()
    )
    if not first_order:
        return select(groups, false())
    # Not cancelled = it counts; an order completed here but not yet reported counts too.
    earlier = exists().where(
        Order.store_id == store,
        Order.customer_id == customer,
        Order.status != "cancelled",
        Order.order_id != order,
    ) | exists().where(
        CompletedCheckout.store_id == store,
        CompletedCheckout.customer_id == customer,
        CompletedCheckout.released_at.is_(None),
        CompletedCheckout.order_id != order,
    )
    return select(groups, earlier)


# Built once: checkout runs one of them for every cart of a known customer.
_FACTS = {first_order: _facts_statement(first_order) for first_order in (False, True)}


async def customer_facts(
    session: AsyncSession,
    store_id: str,
    customer_id: str | None,
    order_id: str | None,
    needs_first_order: bool,
) -> pricing.CustomerFacts | None:
    """Shopper groups and, when a promotion asks, whether this is the customer's first order:
    no earlier order that was not cancelled."""
    if customer_id is None:
        return None
    params = {"store_id": store_id, "customer_id": customer_id, "order_id": order_id or ""}
    groups, earlier = (await session.execute(_FACTS[needs_first_order], params)).one()
    return pricing.CustomerFacts(customer_id, frozenset(groups or ()), not earlier)


async def gather_inputs(
    session: AsyncSession,
    store_id: str,
    request: CheckoutRequest,
    hash_key: str,
    now: datetime,
    order_id: str | None = None,
) -> CheckoutInputs:
    currency = request.currency
    live, bundles = await live_state(session, store_id, currency, now)
    gifts = [gift for _, _, promotion_gifts in live for gift in promotion_gifts]
    wanted = {i.product_id for i in request.items} | {g.product_id for g in gifts if g.product_id}
    catalog = await products(session, store_id, wanted)
    variants = await gift_variants(session, store_id, currency, gifts)
    promotions = with_gift_prices(live, catalog, variants, currency)
    lines = tuple(
        pricing.CartLine(
            item.product_id,
            item.variant_id,
            item.quantity,
            item.unit_price,
            tuple(row.category_ids) if (row := catalog.get(item.product_id)) else (),
        )
        for item in request.items
    )
    codes = ResolvedCodes()
    await resolve_coupons(
        session, store_id, request.coupon_codes, currency, request.customer_id, now, codes
    )
    await resolve_gift_cards(session, store_id, request.gift_card_codes, hash_key, now, codes)
    needs_first = any(isinstance(c, pricing.FirstOrder) for p in promotions for c in p.conditions)
    value = None
    if request.shopper_view and codes.gift_cards:
        value = await catalog_value(session, store_id, currency, lines, catalog)
    return CheckoutInputs(
        cart=pricing.Cart(currency, lines, request.shipping),
        promotions=promotions,
        bundles=bundles,
        customer=await customer_facts(
            session, store_id, request.customer_id, order_id, needs_first
        ),
        codes=codes,
        catalog_value=value,
    )
