"""Everything `price_cart` needs for one checkout, read in one statement when the store's
promotions are held (services/checkout/reads.py): the store's live promotions and bundles, the
catalog facts of the lines, the customer's facts and what the codes given are worth. Evaluate
and complete both go through here, so the same body and state give the same inputs."""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from models.database import SessionStatements, Statements
from services.checkout import pricing
from services.checkout.catalog import catalog_value, with_gift_prices
from services.checkout.codes import (
    ResolvedCodes,
    card_hashes,
    coupon_codes,
    resolve_coupons,
    resolve_gift_cards,
)
from services.checkout.reads import CheckoutReads, read_checkout
from services.checkout.store_state import cached_state, load_state


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


async def gather_inputs(
    session: AsyncSession,
    store_id: str,
    request: CheckoutRequest,
    hash_key: str,
    now: datetime,
    order_id: str | None = None,
    db: Statements | None = None,
) -> CheckoutInputs:
    """One statement for a store whose promotions this process holds at their current version
    (the usual case); a few more when they changed or are not held yet. `db` runs that
    statement (default: in `session`, in the caller's transaction)."""
    currency = request.currency
    state = cached_state(store_id)
    items = {i.product_id for i in request.items}
    wanted = items | state.gift_product_ids if state else items
    codes_given = coupon_codes(request.coupon_codes)
    cards_given = card_hashes(request.gift_card_codes, hash_key)

    async def read(
        product_ids: set[str], variant_ids: frozenset[str], first_order: bool
    ) -> CheckoutReads:
        return await read_checkout(
            db or SessionStatements(session),
            store_id,
            product_ids=product_ids,
            variant_ids=variant_ids,
            currency=currency,
            coupon_codes=list(set(codes_given)),
            card_hashes=list({h for _, h in cards_given}),
            customer_id=request.customer_id,
            order_id=order_id,
            first_order=first_order,
        )

    # Not held yet: whether a promotion asks for the first order is not known, so ask.
    if state is None:
        found = await read(wanted, frozenset(), True)
    else:
        found = await read(wanted, state.gift_variant_ids, state.needs_first_order)
    if state is None or state.fingerprint != found.fingerprint:
        held = state
        state = await load_state(session, store_id, found.fingerprint)
        if (
            not state.gift_product_ids <= wanted
            or not state.gift_variant_ids <= (held.gift_variant_ids if held else frozenset())
            or (held is not None and state.needs_first_order and not held.needs_first_order)
        ):
            found = await read(
                items | state.gift_product_ids, state.gift_variant_ids, state.needs_first_order
            )
    live, bundles = state.live(currency, now)
    catalog = found.products
    promotions = with_gift_prices(live, catalog, found.gift_variants, currency)
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
    resolve_coupons(found.coupons, codes_given, currency, request.customer_id, now, codes)
    resolve_gift_cards(found.gift_cards, cards_given, now, codes)
    value = None
    if request.shopper_view and codes.gift_cards:
        value = await catalog_value(session, store_id, currency, lines, catalog)
    customer = None
    if request.customer_id is not None:
        customer = pricing.CustomerFacts(
            request.customer_id, found.shopper_groups, not found.has_earlier_order
        )
    return CheckoutInputs(
        cart=pricing.Cart(currency, lines, request.shipping),
        promotions=promotions,
        bundles=bundles,
        customer=customer,
        codes=codes,
        catalog_value=value,
    )
