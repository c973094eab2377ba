"""Bundles: products sold together at a discount, validated against the catalog."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Bundle
from services.checkout import pricing
from services.checkout.catalog_refs import require_catalog_refs
from services.errors import NotFound, invalid_from_pricing
from services.ids import new_id
from services.pagination import fetch_page
from services.stores.service import get_store


async def create_bundle(session: AsyncSession, store_id: str, body: Mapping[str, Any]) -> Bundle:
    try:
        pricing.bundle_from_dict("check", body)
    except ValueError as exc:
        raise invalid_from_pricing(exc) from None
    components: list[dict[str, Any]] = list(body["components"])
    refs = [
        (f"components.{k}.{key}", key, component[key])
        for k, component in enumerate(components)
        for key in ("product_id", "variant_id")
        if component.get(key) is not None
    ]
    await require_catalog_refs(session, store_id, refs)
    discount = dict(body["discount"])
    currency = body.get("currency")
    if currency is None and discount["type"] == "fixed":
        # A fixed discount is money: it applies to carts in the currency it was set in.
        currency = (await get_store(session, store_id)).currency
    bundle = Bundle(
        id=new_id("bndl"),
        store_id=store_id,
        name=body["name"],
        components=components,
        discount=discount,
        currency=currency,
        created_at=datetime.now(UTC),
    )
    session.add(bundle)
    await session.flush()
    return bundle


async def get_bundle(session: AsyncSession, store_id: str, bundle_id: str) -> Bundle:
    bundle = await session.get(Bundle, bundle_id)
    if bundle is None or bundle.store_id != store_id:
        raise NotFound("bundle not found")
    return bundle


async def disable_bundle(session: AsyncSession, store_id: str, bundle_id: str) -> Bundle:
    """Soft delete: it stops applying at once; completed checkouts keep its id."""
    bundle = await get_bundle(session, store_id, bundle_id)
    if bundle.disabled_at is None:
        bundle.disabled_at = datetime.now(UTC)
        await session.flush()
    return bundle


async def list_bundles(
    session: AsyncSession, store_id: str, *, limit: int, cursor: str | None
) -> tuple[Sequence[Bundle], str | None]:
    query = select(Bundle).where(Bundle.store_id == store_id)
    return await fetch_page(session, query, Bundle, limit, cursor)
