"""Recommendations: products staff pinned first, then products of the same categories to fill
the slots (for an upsell only dearer ones); never the product itself or an unavailable one."""

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import ARRAY, Boolean, ColumnElement, Text, and_, delete, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Product, RecommendationPin
from services.checkout.catalog_refs import require_catalog_refs
from services.errors import NotFound, invalid_field

Kind = Literal["upsell", "cross_sell"]
KINDS: tuple[Kind, ...] = ("upsell", "cross_sell")
MAX_PINS = 50
# How many same-category candidates are ranked in memory to fill the slots.
_CANDIDATES = 200


async def _product(session: AsyncSession, store_id: str, product_id: str) -> Product:
    product = await session.get(Product, (store_id, product_id))
    if product is None or product.deleted_at is not None:
        raise NotFound("product not found")
    return product


async def set_pins(
    session: AsyncSession, store_id: str, product_id: str, pins: dict[Kind, list[str]]
) -> dict[Kind, list[str]]:
    """Replace the product's pins of every kind, in the order given."""
    await _product(session, store_id, product_id)
    refs: list[tuple[str, str, str]] = []
    for kind, ids in pins.items():
        if len(ids) > MAX_PINS:
            raise invalid_field(kind, f"at most {MAX_PINS} pinned products")
        for k, pinned in enumerate(ids):
            if pinned == product_id:
                raise invalid_field(f"{kind}.{k}", "a product cannot recommend itself")
            if pinned in ids[:k]:
                raise invalid_field(f"{kind}.{k}", f"{pinned!r} is pinned twice")
            refs.append((f"{kind}.{k}", "product_id", pinned))
    await require_catalog_refs(session, store_id, refs)
    await session.execute(
        delete(RecommendationPin).where(
            RecommendationPin.store_id == store_id, RecommendationPin.product_id == product_id
        )
    )
    rows = [
        {
            "store_id": store_id,
            "product_id": product_id,
            "kind": kind,
            "position": k,
            "pinned_product_id": pinned,
        }
        for kind, ids in pins.items()
        for k, pinned in enumerate(ids)
    ]
    if rows:
        await session.execute(insert(RecommendationPin).values(rows))
    return await get_pins(session, store_id, product_id)


async def get_pins(session: AsyncSession, store_id: str, product_id: str) -> dict[Kind, list[str]]:
    await _product(session, store_id, product_id)
    rows = await session.execute(
        select(RecommendationPin.kind, RecommendationPin.pinned_product_id)
        .where(RecommendationPin.store_id == store_id, RecommendationPin.product_id == product_id)
        .order_by(RecommendationPin.kind, RecommendationPin.position)
    )
    out: dict[Kind, list[str]] = {kind: [] for kind in KINDS}
    for kind, pinned in rows.tuples():
        out["upsell" if kind == "upsell" else "cross_sell"].append(pinned)
    return out


def _shown(store_id: str) -> ColumnElement[bool]:
    return and_(
        Product.store_id == store_id, Product.available.is_(True), Product.deleted_at.is_(None)
    )


async def recommend(
    session: AsyncSession, store_id: str, product_id: str, kind: Kind, limit: int
) -> list[tuple[Product, bool]]:
    """Up to `limit` products, each with whether staff pinned it."""
    product = await _product(session, store_id, product_id)
    pinned_ids = (await get_pins(session, store_id, product_id))[kind]
    pinned: list[Product] = []
    if pinned_ids:
        found = await session.scalars(
            select(Product).where(_shown(store_id), Product.product_id.in_(pinned_ids))
        )
        by_id = {p.product_id: p for p in found}
        pinned = [by_id[i] for i in pinned_ids if i in by_id][:limit]
    picked = [(p, True) for p in pinned]
    if len(picked) < limit and product.category_ids:
        fill = await _same_category(session, product, kind, {product_id, *pinned_ids})
        picked += [(p, False) for p in fill[: limit - len(picked)]]
    return picked


async def _same_category(
    session: AsyncSession, product: Product, kind: Kind, exclude: set[str]
) -> Sequence[Product]:
    """Most categories in common first; upsells the nearest price above, cross-sells by id."""
    query = select(Product).where(
        _shown(product.store_id),
        Product.category_ids.op("&&", return_type=Boolean)(
            literal(list(product.category_ids), ARRAY(Text))
        ),
        Product.product_id.not_in(exclude),
        Product.currency == product.currency,
    )
    if kind == "upsell":
        query = query.where(Product.price > product.price)
    order = Product.price if kind == "upsell" else Product.product_id
    rows = await session.scalars(query.order_by(order, Product.product_id).limit(_CANDIDATES))
    own = set(product.category_ids)
    ranked = sorted(
        rows.all(),
        key=lambda p: (
            -len(own & set(p.category_ids)),
            p.price if kind == "upsell" else 0,
            p.product_id,
        ),
    )
    return ranked
