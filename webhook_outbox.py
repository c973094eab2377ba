"""Beside the worker: hands each recorded webhook delivery to a `WebhookDeliveryWorkflow`.
`emit` stores deliveries in the transaction of the change they report (an outbox), so an event
accepted while Temporal is down waits here and starts when Temporal is back; never lost.
A delivery is marked dispatched only after its run started (or was found started)."""

import asyncio
import logging
from collections.abc import Collection
from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from models.database import SessionMaker
from services.growth.webhook_delivery import claim_undispatched, mark_dispatched
from workflows.search_attributes import STORE_ID
from workflows.webhook_delivery import WebhookDeliveryInput, WebhookDeliveryWorkflow

log = logging.getLogger("shopstar.webhook_outbox")


def workflow_id(store_id: str, delivery_id: str) -> str:
    return f"webhook:{store_id}:{delivery_id}"


class WebhookOutbox:
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
        # None: every store's (production); a test scopes its outbox to its own store.
        self._stores = stores

    async def dispatch_once(self) -> int:
        """Start the runs of up to a batch of waiting deliveries; how many were started. The
        first failure to reach Temporal ends the batch (the rest wait for the next round)."""
        async with self._sessionmaker.begin() as session:
            rows = await claim_undispatched(session, self._batch_size, self._stores)
            started = []
            for row in rows:
                left = max((row.give_up_at - datetime.now(UTC)).total_seconds(), 0.0)
                try:
                    await self._client.start_workflow(
                        WebhookDeliveryWorkflow.run,
                        WebhookDeliveryInput(row.store_id, row.id, left),
                        id=workflow_id(row.store_id, row.id),
                        task_queue=self._task_queue,
                        # A delivery runs once, even if the mark below was lost after a start.
                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                        search_attributes=TypedSearchAttributes(
                            [SearchAttributePair(STORE_ID, row.store_id)]
                        ),
                    )
                except WorkflowAlreadyStartedError:
                    pass
                except Exception:
                    log.warning("webhook run not started", extra={"delivery_id": row.id})
                    break
                started.append(row)
            mark_dispatched(started)
        return len(started)

    async def run(self) -> None:
        """Until cancelled: drain the outbox, then look again every `poll_seconds`."""
        while True:
            try:
                started = await self.dispatch_once()
            except Exception:
                log.exception("webhook outbox round failed")
                started = 0
            if started < self._batch_size:
                await asyncio.sleep(self._poll_seconds)
