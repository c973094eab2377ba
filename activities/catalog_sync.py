"""The catalog sync's activity: one batch of a store's dirty products pushed to its social shop
(the rules and the calls are in services/channels/tiktok_catalog.py)."""

from dataclasses import dataclass

from temporalio import activity

from models.database import SessionMaker
from services.channels.connections import ChannelKeys
from services.channels.tiktok_catalog import sync_once


@dataclass
class CatalogSyncInput:
    store_id: str
    network: str  # tiktok_shop (the only network pushed by a run so far)


class CatalogSyncActivities:
    def __init__(self, sessionmaker: SessionMaker, keys: ChannelKeys) -> None:
        self._sessionmaker = sessionmaker
        self._keys = keys

    @activity.defn
    async def push_catalog_batch(self, inp: CatalogSyncInput) -> float | None:
        """Seconds until the next product is due, or None when nothing is left to push."""
        return await sync_once(self._sessionmaker, inp.store_id, self._keys)
