"""The relay: undelivered events to Temporal, in order, at least once.

It claims a batch with `FOR UPDATE SKIP LOCKED` (so several relays can run), plans the workflow
operations, runs the operations of different workflows concurrently and those of one workflow in
order, and marks the batch delivered in the same transaction. If Temporal is unreachable the
transaction rolls back and the same batch is tried again; workflows drop what they saw already."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

import psycopg
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from models.database import SessionMaker
from services.event_log import (
    claim_undelivered,
    mark_delivered,
    record_runs_started,
    routing_context,
)
from services.intake import NOTIFY_CHANNEL
from services.routing import CartSignal, Operation, OrderSignal, plan_operations
from workflows.search_attributes import CART_ID, CUSTOMER_ID, FLOW_KIND, STORE_ID
from workflows.types import (
    SIGNAL_CART_UPDATED,
    SIGNAL_ORDER_PLACED,
    AbandonedCartInput,
    CartActivity,
    OrderCompleted,
)

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
            starts = [
                op
                for ops in plan.values()
                for op in ops
                if isinstance(op, CartSignal) and op.start_flow
            ]
            await record_runs_started(session, starts)
            await mark_delivered(session, [e.seq for e in events])
        return len(events)

    async def _run_in_order(self, ops: list[Operation]) -> None:
        for op in ops:
            async with self._limit:
                await self._call(op)

    async def _call(self, op: Operation) -> None:
        if isinstance(op, OrderSignal):
            signal = OrderCompleted(event_id=op.event_id, order_id=op.order_id)
            await _ignore_closed(
                self._client.get_workflow_handle(op.workflow_id).signal(SIGNAL_ORDER_PLACED, signal)
            )
            return
        activity = CartActivity(
            event_id=op.event_id, seq=op.seq, item_count=op.item_count, customer_id=op.customer_id
        )
        if op.start_flow is None:
            handle = self._client.get_workflow_handle(op.workflow_id)
            await _ignore_closed(handle.signal(SIGNAL_CART_UPDATED, activity))
            return
        version, flow = op.start_flow
        await self._client.start_workflow(
            "AbandonedCartWorkflow",
            AbandonedCartInput(
                store_id=op.store_id,
                cart_id=op.cart_id,
                customer_id=op.customer_id,
                flow_version=version,
                flow=flow,
            ),
            id=op.workflow_id,
            task_queue=self._task_queue,
            start_signal=SIGNAL_CART_UPDATED,
            start_signal_args=[activity],
            search_attributes=search_attributes(op),
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


async def _ignore_closed(call: Awaitable[None]) -> None:
    """A signal to a run that has ended has nothing left to cancel or restart."""
    try:
        await call
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


def search_attributes(op: CartSignal) -> TypedSearchAttributes:
    """Set when the run starts, so the run's history needs no upsert for them."""
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(STORE_ID, op.store_id),
        SearchAttributePair(CART_ID, op.cart_id),
        SearchAttributePair(FLOW_KIND, "abandoned_cart"),
    ]
    if op.customer_id:
        pairs.append(SearchAttributePair(CUSTOMER_ID, op.customer_id))
    return TypedSearchAttributes(pairs)
