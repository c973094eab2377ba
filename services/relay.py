"""The relay: undelivered events to Temporal, in order, at least once.

It claims a batch with `FOR UPDATE SKIP LOCKED` (so several relays can run), plans the workflow
operations, runs the operations of different workflows concurrently and those of one workflow in
order, and marks the batch delivered in the same transaction. If Temporal is unreachable the
transaction rolls back and the same batch is tried again; workflows drop what they saw already."""

import asyncio
import contextlib
import logging
from typing import Any

import psycopg
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from models.database import SessionMaker
from services.event_log import (
    claim_undelivered,
    mark_delivered,
    record_runs_started,
    routing_context,
)
from services.intake import NOTIFY_CHANNEL
from services.routing import BROWSE, CART, WORKFLOW_TYPES, Operation, RunStart, plan_operations
from workflows.search_attributes import CART_ID, CUSTOMER_ID, FLOW_KIND, ORDER_ID, STORE_ID
from workflows.types import AbandonedCartInput, BrowseReminderInput, ReturnPurchaseInput

log = logging.getLogger("shopstar.relay")


class Relay:
    def __init__(
        self,
        sessionmaker: SessionMaker,
        client: Client,
        *,
        task_queue: str,
        batch_size: int = 500,
        concurrency: int = 64,
        poll_seconds: float = 1.0,
        listen_url: str | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._client = client
        self._task_queue = task_queue
        self._batch_size = batch_size
        self._limit = asyncio.Semaphore(concurrency)
        self._poll_seconds = poll_seconds
        self._listen_url = listen_url
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Deliver until cancelled: woken by NOTIFY, with polling as the fallback."""
        listener = asyncio.create_task(self._listen()) if self._listen_url else None
        backoff = 0.5
        try:
            while True:
                try:
                    delivered = await self.deliver_batch()
                    backoff = 0.5
                except Exception as exc:
                    # Nothing of the batch is marked delivered: it is tried again, in order.
                    log.warning("relay: delivery failed, retrying", extra={"error": repr(exc)})
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                if delivered == 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
        finally:
            if listener:
                listener.cancel()

    async def deliver_batch(self) -> int:
        """Deliver one batch; returns how many events it marked delivered."""
        async with self._sessionmaker.begin() as session:
            events = await claim_undelivered(session, self._batch_size)
            if not events:
                return 0
            plan = plan_operations(events, await routing_context(session, events))
            # A failure cancels the rest of the batch; the transaction rolls back.
            async with asyncio.TaskGroup() as group:
                for ops in plan.values():
                    group.create_task(self._run_in_order(ops))
            await record_runs_started(session, (op for ops in plan.values() for op in ops))
            await mark_delivered(session, [e.seq for e in events])
        return len(events)

    async def _run_in_order(self, ops: list[Operation]) -> None:
        for op in ops:
            async with self._limit:
                await self._call(op)

    async def _call(self, op: Operation) -> None:
        if op.start is None:
            assert op.signal is not None
            handle: WorkflowHandle[Any, Any] = self._client.get_workflow_handle(op.workflow_id)
            try:
                await handle.signal(op.signal, op.payload)
            except RPCError as exc:
                # A run that has ended has nothing left to cancel or restart.
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
            return
        options: dict[str, Any] = {
            "id": op.workflow_id,
            "task_queue": self._task_queue,
            "search_attributes": search_attributes(op.store_id, op.start),
        }
        if op.signal is not None:
            options |= {"start_signal": op.signal, "start_signal_args": [op.payload]}
        # A plain start delivered twice finds its run already there.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                WORKFLOW_TYPES[op.start.kind], run_input(op.store_id, op.start), **options
            )

    async def _listen(self) -> None:
        assert self._listen_url is not None
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._listen_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    async for _ in conn.notifies():
                        self._wake.set()
            except psycopg.Error as exc:
                log.warning("relay: LISTEN connection lost", extra={"error": str(exc)})
                await asyncio.sleep(1.0)


def run_input(
    store_id: str, start: RunStart
) -> AbandonedCartInput | BrowseReminderInput | ReturnPurchaseInput:
    if start.kind == CART:
        assert start.cart_id is not None
        return AbandonedCartInput(
            store_id, start.cart_id, start.customer_id, start.flow_version, start.flow
        )
    assert start.customer_id is not None
    if start.kind == BROWSE:
        assert start.product_id is not None
        return BrowseReminderInput(
            store_id, start.customer_id, start.product_id, start.flow_version, start.flow
        )
    assert start.order_id is not None
    return ReturnPurchaseInput(
        store_id, start.customer_id, start.order_id, start.flow_version, start.flow
    )


def search_attributes(store_id: str, start: RunStart) -> TypedSearchAttributes:
    """Set when the run starts, so the run's history needs no upsert for them. Ids only."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(STORE_ID, store_id),
        SearchAttributePair(FLOW_KIND, start.kind),
    ]
    for key, value in (
        (CUSTOMER_ID, start.customer_id),
        (CART_ID, start.cart_id),
        (ORDER_ID, start.order_id),
    ):
        if value:
            pairs.append(SearchAttributePair(key, value))
    return TypedSearchAttributes(pairs)
