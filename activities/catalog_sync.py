"""The catalog sync's activity: one batch of a store's dirty products pushed to its social shop
(the rules are in services/channels/catalog_sync.py, each network's calls in its pusher)."""

from dataclasses import dataclass

from temporalio import activity

from models.database import SessionMaker
from services.channels.catalog_push import sync_once
from services.channels.connections import ChannelKeys, Network


@dataclass
class CatalogSyncInput:
    store_id: str
    network: str  # tiktok_shop, merchant_center or meta


class CatalogSyncActivities:
    def __init__(self, sessionmaker: SessionMaker, keys: ChannelKeys) -> None:
        self._sessionmaker = sessionmaker
        self._keys = keys

    @activity.defn
    async def push_catalog_batch(self, inp: CatalogSyncInput) -> float | None:
        """Seconds until the next product is due, or None when nothing is left to push."""
        return await sync_once(self._sessionmaker, inp.store_id, Network(inp.network), self._keys)
