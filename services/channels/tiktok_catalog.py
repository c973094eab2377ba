"""The catalog sync to TikTok Shop (docs/channels.md): a catalog change marks the product dirty
(in the intake's transaction); the store's sync run (`catalog-sync:{store}:tiktok_shop`) pushes
the dirty products in batches through the Partner API: create, update, or deactivate a deleted
one. A product is pushed at most once a minute; a failed push keeps it dirty and is tried again
with backoff, so a TikTok outage delays the sync, never loses it. TikTok's product id and each
product's last error are kept; the connection's state shows the last call's outcome.

What is sent: title, description (the title when there is none), the image URL, and one SKU per
variant (a product without variants is one SKU) whose `seller_sku` is our variant id (or product
id): the order intake maps TikTok's lines back to our ids with it."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.ad_networks import NetworkUnavailable
from integrations.tiktok_shop import TikTokRefused, TikTokShopClient
from models import ChannelConnection, Product, ProductVariant, TikTokShopProduct
from models.database import SessionMaker
from services.channels.connections import ChannelKeys, Network, credentials, record_outcome
from services.checkout.pricing.money import format_amount

MIN_INTERVAL = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 50
# Our catalog knows whether a product is available, not how many: TikTok wants a number.
AVAILABLE_STOCK = 999
CALL_SECONDS = 15.0


async def mark_dirty(session: AsyncSession, store_id: str, product_ids: Iterable[str]) -> None:
    """A product changed: push it to the store's TikTok Shop, if the store has one, once the
    minute since its last push is over. One statement, nothing for a store without one."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    connected = await session.scalar(
        select(ChannelConnection.network).where(
            ChannelConnection.store_id == store_id,
            ChannelConnection.network == str(Network.TIKTOK_SHOP),
        )
    )
    if connected is None:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "store_id": store_id,
            "product_id": p,
            "dirty": True,
            "version": 1,
            "due_at": now,
            "attempts": 0,
            "signalled": False,
        }
        for p in ids
    ]
    stmt = insert(TikTokShopProduct)
    table = TikTokShopProduct.__table__.c
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.store_id, table.product_id],
            set_={
                "dirty": True,
                "version": table.version + 1,
                "attempts": 0,
                "signalled": False,
                "due_at": func.greatest(
                    stmt.excluded.due_at,
                    func.coalesce(table.attempted_at + MIN_INTERVAL, stmt.excluded.due_at),
                ),
            },
        ),
        rows,
    )


async def claim_unsignalled(
    session: AsyncSession, stores: Collection[str] | None, limit: int = 1000
) -> list[str]:
    """The stores whose sync run must be woken for new changes (marked as woken)."""
    pending = (
        select(TikTokShopProduct.store_id, TikTokShopProduct.product_id)
        .where(TikTokShopProduct.signalled.is_(False))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if stores is not None:
        pending = pending.where(TikTokShopProduct.store_id.in_(stores))
    claimed = pending.subquery()
    result = await session.execute(
        update(TikTokShopProduct)
        .where(
            TikTokShopProduct.store_id == claimed.c.store_id,
            TikTokShopProduct.product_id == claimed.c.product_id,
        )
        .values(signalled=True)
        .returning(TikTokShopProduct.store_id)
    )
    return sorted({r.store_id for r in result})


@dataclass(frozen=True)
class Push:
    product_id: str
    version: int
    tiktok_id: str | None
    body: dict[str, Any] | None  # None: deleted (or gone from the mirror): deactivate


@dataclass(frozen=True)
class Outcome:
    push: Push
    tiktok_id: str | None = None
    error: str | None = None


def product_body(product: Product, variants: list[ProductVariant]) -> dict[str, Any]:
    def sku(seller_sku: str, price: int, available: bool) -> dict[str, Any]:
        amount = format_amount(price, product.currency)
        return {
            "seller_sku": seller_sku,
            "price": {"amount": amount, "currency": product.currency},
            "inventory": [{"quantity": AVAILABLE_STOCK if available else 0}],
        }

    skus = [sku(v.variant_id, v.price, v.available and product.available) for v in variants]
    body: dict[str, Any] = {
        "title": product.title,
        "description": product.description or product.title,
        "skus": skus or [sku(product.product_id, product.price, product.available)],
    }
    if product.image_url:
        body["main_images"] = [{"uri": product.image_url}]
    return body


async def _due(session: AsyncSession, store_id: str, now: datetime) -> list[Push]:
    rows = list(
        await session.scalars(
            select(TikTokShopProduct)
            .where(
                TikTokShopProduct.store_id == store_id,
                TikTokShopProduct.dirty.is_(True),
                TikTokShopProduct.due_at <= now,
            )
            .order_by(TikTokShopProduct.due_at, TikTokShopProduct.product_id)
            .limit(BATCH)
        )
    )
    ids = [r.product_id for r in rows]
    products = {
        p.product_id: p
        for p in await session.scalars(
            select(Product).where(
                Product.store_id == store_id,
                Product.product_id.in_(ids),
                Product.deleted_at.is_(None),
            )
        )
    }
    variants: dict[str, list[ProductVariant]] = {}
    for v in await session.scalars(
        select(ProductVariant)
        .where(ProductVariant.store_id == store_id, ProductVariant.product_id.in_(ids))
        .order_by(ProductVariant.variant_id)
    ):
        variants.setdefault(v.product_id, []).append(v)
    return [
        Push(
            r.product_id,
            r.version,
            r.tiktok_product_id,
            product_body(products[r.product_id], variants.get(r.product_id, []))
            if r.product_id in products
            else None,
        )
        for r in rows
    ]


async def _send(client: TikTokShopClient, push: Push) -> Outcome:
    try:
        if push.body is None:
            if push.tiktok_id is not None:
                await client.deactivate_products([push.tiktok_id])
            return Outcome(push, push.tiktok_id)
        if push.tiktok_id is None:
            return Outcome(push, await client.create_product(push.body))
        return Outcome(push, await client.update_product(push.tiktok_id, push.body))
    except (NetworkUnavailable, TikTokRefused) as exc:
        return Outcome(push, push.tiktok_id, str(exc))


async def _record(
    session: AsyncSession, store_id: str, outcomes: list[Outcome], now: datetime
) -> None:
    for outcome in outcomes:
        row = await session.get(
            TikTokShopProduct, (store_id, outcome.push.product_id), with_for_update=True
        )
        if row is None:
            continue
        row.attempted_at = now
        row.tiktok_product_id = outcome.tiktok_id or row.tiktok_product_id
        if outcome.error is None:
            row.pushed_at, row.last_error, row.attempts = now, None, 0
            # A change that came in during the push is pushed again, a minute on.
            row.dirty = row.version != outcome.push.version
            row.due_at = now + MIN_INTERVAL
        else:
            row.attempts += 1
            row.last_error = outcome.error[:500]
            row.due_at = now + min(MIN_INTERVAL * 2 ** (row.attempts - 1), MAX_BACKOFF)
    errors = [o.error for o in outcomes if o.error]
    if outcomes:
        await record_outcome(session, store_id, Network.TIKTOK_SHOP, errors[-1] if errors else None)


async def _next_due(session: AsyncSession, store_id: str, now: datetime) -> float | None:
    due = await session.scalar(
        select(func.min(TikTokShopProduct.due_at)).where(
            TikTokShopProduct.store_id == store_id, TikTokShopProduct.dirty.is_(True)
        )
    )
    return None if due is None else max((due - now).total_seconds(), 0.0)


async def sync_once(
    sessionmaker: SessionMaker,
    store_id: str,
    keys: ChannelKeys,
    http: httpx.AsyncClient | None = None,
) -> float | None:
    """Push one batch of the store's due products; the seconds until the next is due, or None
    when nothing is dirty (or the store is no longer connected: its changes wait)."""
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        creds = await credentials(session, store_id, Network.TIKTOK_SHOP, keys)
        if creds is None:
            return None
        pushes = await _due(session, store_id, now)
    # No transaction is held while TikTok answers.
    outcomes: list[Outcome] = []
    if pushes:
        async with httpx.AsyncClient(timeout=CALL_SECONDS, follow_redirects=False) as own:
            client = TikTokShopClient(http or own, creds.ids, creds.secrets, creds.base_url)
            for push in pushes:
                outcomes.append(await _send(client, push))
    async with sessionmaker.begin() as session:
        done = datetime.now(UTC)
        await _record(session, store_id, outcomes, done)
        return await _next_due(session, store_id, done)
