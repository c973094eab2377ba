"""Beside the worker: wakes each store's catalog sync run per network (`CatalogSyncWorkflow`) when
its products changed. The dirty rows are the outbox (services/channels/catalog_sync.py): a change
accepted while Temporal is down wakes its run when Temporal is back. Signal-with-start: a run
that is there gets a signal, a store without one gets a new run."""

import logging

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from activities.catalog_sync import CatalogSyncInput
from rounds import Rounds
from services.channels.catalog_sync import claim_unsignalled
from workflows.catalog_sync import CatalogSyncWorkflow
from workflows.search_attributes import FLOW_KIND, STORE_ID

log = logging.getLogger("shopstar.catalog_outbox")


def workflow_id(store_id: str, network: str) -> str:
    return f"catalog-sync:{store_id}:{network}"


class CatalogOutbox(Rounds):
    name = "catalog outbox round"

    async def dispatch_once(self) -> int:
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
