"""Beside the worker: hands each recorded webhook delivery to a `WebhookDeliveryWorkflow`.
`emit` stores deliveries in the transaction of the change they report (an outbox), so an event
accepted while Temporal is down waits here and starts when Temporal is back; never lost.
A delivery is marked dispatched only after its run started (or was found started)."""

import logging
from datetime import UTC, datetime

from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from rounds import Rounds
from services.growth.webhook_delivery import claim_undispatched, mark_dispatched
from workflows.search_attributes import STORE_ID
from workflows.webhook_delivery import WebhookDeliveryInput, WebhookDeliveryWorkflow

log = logging.getLogger("shopstar.webhook_outbox")


def workflow_id(store_id: str, delivery_id: str) -> str:
    return f"webhook:{store_id}:{delivery_id}"


class WebhookOutbox(Rounds):
    name = "webhook outbox round"

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
