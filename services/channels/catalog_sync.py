"""The catalog sync, one mechanism for every network a store's catalog is pushed to
(docs/channels.md): a catalog change marks the product dirty for each connected network (in the
intake's transaction); the store's run per network (`catalog-sync:{store}:{network}`) pushes the
dirty products in batches through the network's pusher (services/channels/tiktok_catalog.py,
catalog_push.py). A product is pushed at most once a minute per network; a failed push keeps it
dirty and is tried again with backoff, so an outage delays the sync, never loses it. A product
the network would refuse for a missing attribute is not pushed: its reason is recorded and it
waits for its next change. The connection's state shows the last call's outcome."""

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.ad_networks import CredentialRejected, NetworkUnavailable
from models import CatalogSyncItem, ChannelConnection, Product, ProductVariant
from models.database import SessionMaker
from services.channels.connections import (
    ChannelKeys,
    Credentials,
    Network,
    credentials,
    record_outcome,
)

MIN_INTERVAL = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
CALL_SECONDS = 15.0
# The id a connection needs before its catalog is synced (a Meta connection may be for
# conversions only; Merchant Center needs the API data source products go into).
REQUIRED_ID: dict[Network, str | None] = {
    Network.TIKTOK_SHOP: None,
    Network.MERCHANT_CENTER: "data_source_id",
    Network.META: "catalog_id",
}


def syncs_catalog(network: Network, ids: Mapping[str, Any]) -> bool:
    if network not in REQUIRED_ID:
        return False
    needed = REQUIRED_ID[network]
    return needed is None or bool(ids.get(needed))


async def mark_dirty(session: AsyncSession, store_id: str, product_ids: Iterable[str]) -> None:
    """Products changed: push them to each network the store syncs its catalog to, once the
    minute since their last push there is over. Nothing for a store without one."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    connected = await session.execute(
        select(ChannelConnection.network, ChannelConnection.ids).where(
            ChannelConnection.store_id == store_id,
            ChannelConnection.network.in_([str(n) for n in REQUIRED_ID]),
        )
    )
    networks = sorted(r.network for r in connected if syncs_catalog(Network(r.network), r.ids))
    if not networks:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "store_id": store_id,
            "network": n,
            "product_id": p,
            "dirty": True,
            "version": 1,
            "due_at": now,
            "attempts": 0,
            "signalled": False,
        }
        for n in networks
        for p in ids
    ]
    stmt = insert(CatalogSyncItem)
    table = CatalogSyncItem.__table__.c
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.store_id, table.network, table.product_id],
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
) -> list[tuple[str, str]]:
    """The (store, network) runs that must be woken for new changes (marked as woken)."""
    item = CatalogSyncItem
    pending = (
        select(item.store_id, item.network, item.product_id)
        .where(item.signalled.is_(False))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if stores is not None:
        pending = pending.where(item.store_id.in_(stores))
    claimed = pending.subquery()
    result = await session.execute(
        update(item)
        .where(
            item.store_id == claimed.c.store_id,
            item.network == claimed.c.network,
            item.product_id == claimed.c.product_id,
        )
        .values(signalled=True)
        .returning(item.store_id, item.network)
    )
    return sorted({(r.store_id, r.network) for r in result})


@dataclass(frozen=True)
class Push:
    product_id: str
    version: int
    remote_id: str | None
    pushed_items: list[str]
    product: Product | None  # None: deleted (or gone from the mirror): remove it
    variants: list[ProductVariant] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    push: Push
    remote_id: str | None = None
    items: list[str] | None = None  # the item ids now on the network (None: unchanged)
    error: str | None = None
    # False: the product was not pushed (a missing attribute); it waits for its next change.
    retry: bool = True


Pusher = Callable[[httpx.AsyncClient, Credentials, list[Push]], Awaitable[list[Outcome]]]


async def _due(
    session: AsyncSession, store_id: str, network: Network, now: datetime, batch: int
) -> list[Push]:
    rows = list(
        await session.scalars(
            select(CatalogSyncItem)
            .where(
                CatalogSyncItem.store_id == store_id,
                CatalogSyncItem.network == str(network),
                CatalogSyncItem.dirty.is_(True),
                CatalogSyncItem.due_at <= now,
            )
            .order_by(CatalogSyncItem.due_at, CatalogSyncItem.product_id)
            .limit(batch)
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
            r.remote_id,
            list(r.pushed_items or []),
            products.get(r.product_id),
            variants.get(r.product_id, []) if r.product_id in products else [],
        )
        for r in rows
    ]


async def _record(
    session: AsyncSession,
    store_id: str,
    network: Network,
    outcomes: list[Outcome],
    now: datetime,
    connection_error: str | None,
) -> None:
    for outcome in outcomes:
        row = await session.get(
            CatalogSyncItem,
            (store_id, str(network), outcome.push.product_id),
            with_for_update=True,
        )
        if row is None:
            continue
        row.attempted_at = now
        row.remote_id = outcome.remote_id or row.remote_id
        if outcome.items is not None:
            row.pushed_items = outcome.items
        if outcome.error is None or not outcome.retry:
            row.pushed_at = now if outcome.error is None else row.pushed_at
            row.last_error = outcome.error[:500] if outcome.error else None
            row.attempts = 0
            # A change that came in during the push is pushed again, a minute on.
            row.dirty = row.version != outcome.push.version
            row.due_at = now + MIN_INTERVAL
        else:
            row.attempts += 1
            row.last_error = outcome.error[:500]
            row.due_at = now + min(MIN_INTERVAL * 2 ** (row.attempts - 1), MAX_BACKOFF)
    errors = [o.error for o in outcomes if o.error and o.retry]
    if connection_error is not None:
        await record_outcome(session, store_id, network, connection_error)
    elif outcomes:
        await record_outcome(session, store_id, network, errors[-1] if errors else None)


async def _next_due(
    session: AsyncSession, store_id: str, network: Network, now: datetime
) -> float | None:
    due = await session.scalar(
        select(func.min(CatalogSyncItem.due_at)).where(
            CatalogSyncItem.store_id == store_id,
            CatalogSyncItem.network == str(network),
            CatalogSyncItem.dirty.is_(True),
        )
    )
    return None if due is None else max((due - now).total_seconds(), 0.0)


async def sync_network(
    sessionmaker: SessionMaker,
    store_id: str,
    network: Network,
    pusher: Pusher,
    batch: int,
    keys: ChannelKeys,
    http: httpx.AsyncClient | None = None,
) -> float | None:
    """Push one batch of the store's due products to the network; the seconds until the next is
    due, or None when nothing is dirty (or the store no longer syncs there: its changes wait)."""
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        creds = await credentials(session, store_id, network, keys)
        if creds is None or not syncs_catalog(network, creds.ids):
            return None
        pushes = await _due(session, store_id, network, now, batch)
    # No transaction is held while the network answers.
    outcomes: list[Outcome] = []
    refused: str | None = None
    if pushes:
        async with httpx.AsyncClient(timeout=CALL_SECONDS, follow_redirects=False) as own:
            try:
                outcomes = await pusher(http or own, creds, pushes)
            except CredentialRejected as exc:
                refused = f"{exc.field}: {exc.reason}"
                outcomes = [Outcome(p, error=refused) for p in pushes]
            except NetworkUnavailable as exc:
                outcomes = [Outcome(p, error=str(exc)) for p in pushes]
    async with sessionmaker.begin() as session:
        done = datetime.now(UTC)
        await _record(session, store_id, network, outcomes, done, refused)
        return await _next_due(session, store_id, network, done)
