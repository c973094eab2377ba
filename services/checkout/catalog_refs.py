"""Checks that products named in a bundle, a pin or a free-product action exist in the store's
catalog mirror, so a typo is a 422 naming the field rather than a silent no-op."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Product, ProductVariant
from services.errors import invalid_field


async def known_products(session: AsyncSession, store_id: str, ids: Iterable[str]) -> set[str]:
    wanted = set(ids)
    if not wanted:
        return set()
    rows = await session.scalars(
        select(Product.product_id).where(
            Product.store_id == store_id,
            Product.product_id.in_(wanted),
            Product.deleted_at.is_(None),
        )
    )
    return set(rows.all())


async def known_variants(session: AsyncSession, store_id: str, ids: Iterable[str]) -> set[str]:
    wanted = set(ids)
    if not wanted:
        return set()
    rows = await session.scalars(
        select(ProductVariant.variant_id)
        .join(Product)  # on the composite foreign key (store_id, product_id)
        .where(
            ProductVariant.store_id == store_id,
            ProductVariant.variant_id.in_(wanted),
            Product.deleted_at.is_(None),
        )
    )
    return set(rows.all())


async def require_catalog_refs(
    session: AsyncSession, store_id: str, refs: list[tuple[str, str, str]]
) -> None:
    """`refs` are (field path, "product_id" | "variant_id", id); the first unknown one is a 422."""
    products = await known_products(session, store_id, (i for _, k, i in refs if k == "product_id"))
    variants = await known_variants(session, store_id, (i for _, k, i in refs if k == "variant_id"))
    for field, kind, ref in refs:
        known = products if kind == "product_id" else variants
        if ref not in known:
            raise invalid_field(field, f"no {kind.removesuffix('_id')} {ref!r} in the catalog")
