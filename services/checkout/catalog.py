"""The catalog's side of a checkout, read for pricing: the facts of the cart's lines and of free
products (the live promotions and bundles are in services/checkout/store_state.py).

The statements are built once with bind parameters: checkout runs them on every cart."""

import dataclasses
from typing import NamedTuple, TypeVar

from sqlalchemy import ARRAY, BindParameter, Text, any_, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models import Product, ProductVariant
from services.checkout import pricing
from services.checkout.store_state import LivePromotion, PromotionKey

_CACHE_LIMIT = 20_000
# A free product's catalog facts: (product_id, price, category_ids), or None if it cannot be sold.
GiftFacts = tuple[str, int, tuple[str, ...]] | None
_with_gifts: dict[tuple[PromotionKey, tuple[GiftFacts, ...]], pricing.Promotion] = {}
K = TypeVar("K")
V = TypeVar("V")

_STORE: BindParameter[str] = bindparam("store_id")
# As one JSON array (decoded in C) rather than a row per line of the cart.
PRODUCTS = select(
    func.json_agg(
        func.json_build_array(
            Product.product_id,
            Product.price,
            Product.currency,
            Product.category_ids,
            Product.available & Product.deleted_at.is_(None),
        )
    )
).where(
    Product.store_id == _STORE,
    # One array parameter, not one per id: the statement stays the same whatever the cart.
    Product.product_id == any_(bindparam("ids", type_=ARRAY(Text))),
)


# The free variants the store's promotions give, with their product's categories: those that can
# be sold now in the checkout's currency (a row missing means that gift gives nothing).
GIFT_VARIANTS = (
    select(
        ProductVariant.variant_id,
        ProductVariant.product_id,
        ProductVariant.price,
        Product.category_ids,
    )
    .join(Product)  # on the composite foreign key (store_id, product_id)
    .where(
        ProductVariant.store_id == _STORE,
        ProductVariant.variant_id == any_(bindparam("variant_ids", type_=ARRAY(Text))),
        ProductVariant.available.is_(True),
        Product.available.is_(True),
        Product.deleted_at.is_(None),
        Product.currency == bindparam("currency", type_=Text),
    )
)


class ProductFacts(NamedTuple):
    product_id: str
    price: int
    currency: str
    category_ids: list[str]
    on_sale: bool


def _remember(cache: dict[K, V], key: K, value: V) -> V:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


async def products(
    session: AsyncSession, store_id: str, product_ids: set[str]
) -> dict[str, ProductFacts]:
    """The cart's products and the free ones: price, currency, categories, whether on sale."""
    params = {"store_id": store_id, "ids": list(product_ids)}
    rows = await session.scalar(PRODUCTS, params)
    return {row[0]: ProductFacts(*row) for row in rows or ()}


def with_gift_prices(
    promotions: list[LivePromotion],
    catalog: dict[str, ProductFacts],
    variants: dict[str, GiftFacts],
    currency: str,
) -> list[pricing.Promotion]:
    """Free products at today's catalog price; one that cannot be sold now gives nothing."""

    def facts(gift: pricing.FreeProduct) -> GiftFacts:
        if gift.variant_id is not None:
            return variants.get(gift.variant_id)
        row = catalog.get(gift.product_id or "")
        if row is None or not row.on_sale or row.currency != currency:
            return None
        return (row.product_id, row.price, tuple(row.category_ids))

    out = []
    for key, promotion, gifts in promotions:
        if not gifts:
            out.append(promotion)
            continue
        found = tuple(facts(g) for g in gifts)
        priced = _with_gifts.get((key, found))
        if priced is None:
            priced = _remember(_with_gifts, (key, found), _priced(promotion, found))
        out.append(priced)
    return out


def _priced(promotion: pricing.Promotion, found: tuple[GiftFacts, ...]) -> pricing.Promotion:
    given = iter(found)
    actions: list[pricing.Action] = []
    for action in promotion.actions:
        if not isinstance(action, pricing.FreeProduct):
            actions.append(action)
        elif (fact := next(given)) is not None:
            product_id, price, categories = fact
            actions.append(
                dataclasses.replace(
                    action, product_id=product_id, unit_price=price, category_ids=categories
                )
            )
    return dataclasses.replace(promotion, actions=tuple(actions))


async def catalog_value(
    session: AsyncSession,
    store_id: str,
    currency: str,
    lines: tuple[pricing.CartLine, ...],
    catalog: dict[str, ProductFacts],
) -> int:
    """What the cart's items cost at most by the catalog: each line at the lower of its given and
    its catalog price (the variant's when the catalog knows it); a line the catalog does not sell
    in this currency counts for nothing. A storefront's prices are its own to give, so this is
    what bounds the gift-card amounts a publishable key is shown."""
    wanted = [(line.product_id, line.variant_id) for line in lines if line.variant_id]
    variants: dict[tuple[str, str], tuple[int, bool]] = {}
    if wanted:
        rows = await session.execute(
            select(
                ProductVariant.product_id,
                ProductVariant.variant_id,
                ProductVariant.price,
                ProductVariant.available,
            ).where(
                ProductVariant.store_id == store_id,
                tuple_(ProductVariant.product_id, ProductVariant.variant_id).in_(wanted),
            )
        )
        variants = {(r.product_id, r.variant_id): (r.price, r.available) for r in rows}
    value = 0
    for line in lines:
        product = catalog.get(line.product_id)
        if product is None or not product.on_sale or product.currency != currency:
            continue
        price, available = variants.get(
            (line.product_id, line.variant_id or ""), (product.price, True)
        )
        if available:
            value += line.quantity * min(line.unit_price, price)
    return value
