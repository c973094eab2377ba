"""What every loop beside the worker shares: the outboxes that start or wake runs from rows in
PostgreSQL, and the schedulers that create Temporal Schedules. A round takes up to a batch of
rows; the next round follows at once while rounds come back full, else after `poll_seconds`. A
failed round is logged and tried again: it never ends the worker, and the rows it did not finish
stay for the next one (each subclass marks a row done only after Temporal took it)."""

import asyncio
import logging
from collections.abc import Collection

from temporalio.client import Client

from models.database import SessionMaker

log = logging.getLogger("shopstar.rounds")


class Rounds:
    name = "round"

    def __init__(
        self,
        sessionmaker: SessionMaker,
        client: Client,
        *,
        task_queue: str,
        batch_size: int = 100,
        poll_seconds: float = 1.0,
        stores: Collection[str] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._client = client
        self._task_queue = task_queue
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        # None: every store's rows (production); a test scopes a loop to its own store.
        self._stores = stores

    async def dispatch_once(self) -> int:
        """One round; how many rows it handed to Temporal."""
        raise NotImplementedError

    async def run(self) -> None:
        """Until cancelled: a round, then another."""
        while True:
            try:
                done = await self.dispatch_once()
            except Exception:
                log.exception("%s failed", self.name)
                done = 0
            if done < self._batch_size:
                await asyncio.sleep(self._poll_seconds)
