"""The store's side of a checkout, read for pricing: the live promotions and bundles (parsed once
per version and kept in the process, since a store changes them far less often than it prices
carts), and the catalog facts of the cart's lines and of free products.

The statements are built once with bind parameters: checkout runs them on every cart."""

import dataclasses
from datetime import datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import ARRAY, BindParameter, Text, any_, bindparam, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from models import Bundle, Product, ProductVariant, Promotion
from services.checkout import pricing

_CACHE_LIMIT = 20_000
PromotionKey = tuple[str, int]  # (id, version): a change of the promotion bumps its version
# A free product's catalog facts: (product_id, price, category_ids), or None if it cannot be sold.
GiftFacts = tuple[str, int, tuple[str, ...]] | None
Gifts = tuple[pricing.FreeProduct, ...]
_promotions: dict[PromotionKey, tuple[pricing.Promotion, Gifts]] = {}
_with_gifts: dict[tuple[PromotionKey, tuple[GiftFacts, ...]], pricing.Promotion] = {}
_bundles: dict[str, pricing.Bundle] = {}
K = TypeVar("K")
V = TypeVar("V")

_STORE: BindParameter[str] = bindparam("store_id")
_NOW: BindParameter[datetime] = bindparam("now")
_CURRENCY: BindParameter[str] = bindparam("currency")
_LIVE_PROMOTIONS = (
    Promotion.store_id == _STORE,
    Promotion.disabled_at.is_(None),
    or_(Promotion.starts_at.is_(None), Promotion.starts_at <= _NOW),
    or_(Promotion.ends_at.is_(None), Promotion.ends_at > _NOW),
    or_(Promotion.currency.is_(None), Promotion.currency == _CURRENCY),
)
_LIVE_BUNDLES = (
    Bundle.store_id == _STORE,
    Bundle.disabled_at.is_(None),
    or_(Bundle.currency.is_(None), Bundle.currency == _CURRENCY),
)
# What is live, as three arrays in one row: one round trip, little to decode, per cart.
_LIVE = select(
    # Both arrays in id order, so that they pair up.
    select(func.array_agg(aggregate_order_by(Promotion.id, Promotion.id)))
    .where(*_LIVE_PROMOTIONS)
    .scalar_subquery(),
    select(func.array_agg(aggregate_order_by(Promotion.version, Promotion.id)))
    .where(*_LIVE_PROMOTIONS)
    .scalar_subquery(),
    select(func.array_agg(aggregate_order_by(Bundle.id, Bundle.seq)))
    .where(*_LIVE_BUNDLES)
    .scalar_subquery(),
)
# As one JSON array (decoded in C) rather than a row per line of the cart.
_PRODUCTS = select(
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


async def live_state(
    session: AsyncSession, store_id: str, currency: str, now: datetime
) -> tuple[list[tuple[PromotionKey, pricing.Promotion, Gifts]], list[pricing.Bundle]]:
    """Live promotions and bundles in the cart's currency (or in none); only what is new to
    this process is loaded and parsed. Bundles come oldest first, the order they form sets in."""
    params = {"store_id": store_id, "now": now, "currency": currency}
    ids, versions, bundle_ids = (await session.execute(_LIVE, params)).one()
    keys: list[PromotionKey] = list(zip(ids or (), versions or (), strict=True))
    await _load_promotions([key for key in keys if key not in _promotions], session)
    # A bundle never changes once created (it can only be withdrawn): its id is enough.
    await _load_bundles([i for i in bundle_ids or () if i not in _bundles], session)
    promotions = [(key, *_promotions[key]) for key in keys if key in _promotions]
    return promotions, [_bundles[i] for i in bundle_ids or () if i in _bundles]


async def _load_promotions(missing: list[PromotionKey], session: AsyncSession) -> None:
    if not missing:
        return
    fresh = await session.scalars(
        select(Promotion).where(tuple_(Promotion.id, Promotion.version).in_(missing))
    )
    for p in fresh:
        body = {
            "priority": p.priority,
            "exclusive": p.exclusive,
            "requires_coupon": p.requires_coupon,
            "conditions": p.conditions,
            "actions": p.actions,
        }
        parsed = pricing.promotion_from_dict(p.id, body, p.seq)
        gifts = tuple(a for a in parsed.actions if isinstance(a, pricing.FreeProduct))
        _remember(_promotions, (p.id, p.version), (parsed, gifts))


async def _load_bundles(missing: list[str], session: AsyncSession) -> None:
    if not missing:
        return
    rows = await session.execute(
        select(Bundle.id, Bundle.components, Bundle.discount).where(Bundle.id.in_(missing))
    )
    for row in rows:
        body = {"components": row.components, "discount": row.discount}
        _remember(_bundles, row.id, pricing.bundle_from_dict(row.id, body))


async def products(
    session: AsyncSession, store_id: str, product_ids: set[str]
) -> dict[str, ProductFacts]:
    """The cart's products and the free ones: price, currency, categories, whether on sale."""
    params = {"store_id": store_id, "ids": list(product_ids)}
    rows = await session.scalar(_PRODUCTS, params)
    return {row[0]: ProductFacts(*row) for row in rows or ()}


async def gift_variants(
    session: AsyncSession, store_id: str, currency: str, gifts: list[pricing.FreeProduct]
) -> dict[str, GiftFacts]:
    wanted = {g.variant_id for g in gifts if g.variant_id}
    if not wanted:
        return {}
    rows = await session.execute(
        select(
            ProductVariant.variant_id,
            ProductVariant.product_id,
            ProductVariant.price,
            Product.category_ids,
        )
        .join(
            Product,
            tuple_(Product.store_id, Product.product_id)
            == tuple_(ProductVariant.store_id, ProductVariant.product_id),
        )
        .where(
            ProductVariant.store_id == store_id,
            ProductVariant.variant_id.in_(wanted),
            ProductVariant.available.is_(True),
            Product.available.is_(True),
            Product.deleted_at.is_(None),
            Product.currency == currency,
        )
    )
    return {r.variant_id: (r.product_id, r.price, tuple(r.category_ids)) for r in rows}


def with_gift_prices(
    promotions: list[tuple[PromotionKey, pricing.Promotion, Gifts]],
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
