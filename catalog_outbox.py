"""Beside the worker: wakes each store's catalog sync run per network (`CatalogSyncWorkflow`) when
its products changed. The dirty rows are the outbox (services/channels/catalog_sync.py): a change
accepted while Temporal is down wakes its run when Temporal is back. Signal-with-start: a run
that is there gets a signal, a store without one gets a new run."""

import asyncio
import logging
from collections.abc import Collection

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from activities.catalog_sync import CatalogSyncInput
from models.database import SessionMaker
from services.channels.catalog_sync import claim_unsignalled
from workflows.catalog_sync import CatalogSyncWorkflow
from workflows.search_attributes import FLOW_KIND, STORE_ID

log = logging.getLogger("shopstar.catalog_outbox")


def workflow_id(store_id: str, network: str) -> str:
    return f"catalog-sync:{store_id}:{network}"


class CatalogOutbox:
    def __init__(
        self,
        sessionmaker: SessionMaker,
        client: Client,
        *,
        task_queue: str,
        poll_seconds: float = 1.0,
        stores: Collection[str] | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._client = client
        self._task_queue = task_queue
        self._poll_seconds = poll_seconds
        # None: every store's (production); a test scopes its outbox to its own store.
        self._stores = stores

    async def wake_runs(self) -> int:
        """Start or signal the run of every store with news; a failure rolls the claim back."""
        async with self._sessionmaker.begin() as session:
            runs = await claim_unsignalled(session, self._stores)
            for store_id, network in runs:
                await self._client.start_workflow(
                    CatalogSyncWorkflow.run,
                    CatalogSyncInput(store_id, network),
                    id=workflow_id(store_id, network),
                    task_queue=self._task_queue,
                    start_signal="catalog_changed",
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(STORE_ID, store_id),
                            SearchAttributePair(FLOW_KIND, "catalog_sync"),
                        ]
                    ),
                )
        return len(runs)

    async def run(self) -> None:
        while True:
            try:
                await self.wake_runs()
            except Exception:
                log.warning("catalog outbox: waking runs failed, retrying", exc_info=True)
            await asyncio.sleep(self._poll_seconds)
