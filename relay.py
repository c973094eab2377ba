"""The relay: undelivered events to Temporal, in order, at least once.

It claims a batch with `FOR UPDATE SKIP LOCKED` (so several relays can run), a fair share of
every store's oldest events, plans the workflow operations, runs the operations of different
workflows concurrently and those of one workflow in order, and marks the batch delivered in the
same transaction. If Temporal is unreachable the transaction rolls back and the same batch is
tried again; workflows drop what they saw already. Any other failure belongs to one operation
(or to one store's events, when they cannot be planned): it is set aside with its error
(`services/events/relay_failures.py`) and retried with backoff on its own, and the rest goes on."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from flow_contract import (
    CartActivity,
    CustomerErased,
    FlowKind,
    FlowPlan,
    OrderCompleted,
    ProductView,
    ProgramKind,
    ReferralRewardInput,
    Signal,
)
from models import RelayFailure
from models.database import SessionMaker
from services.events.intake import NOTIFY_CHANNEL
from services.events.log import (
    claim_undelivered,
    load_events,
    mark_delivered,
    record_runs_started,
    routing_context,
)
from services.events.relay_failures import (
    claim_due,
    delivered,
    failed_again,
    open_for_stores,
    open_for_workflows,
    queue_behind,
    set_aside,
)
from services.events.routing import EventRow, Operation, ProgramStart, RunStart, plan_operations
from workflows.abandoned_cart import AbandonedCartWorkflow
from workflows.affiliate_commission import AffiliateCommissionWorkflow, CommissionInput
from workflows.audiences import AudienceRemovalInput, AudienceRemovalWorkflow
from workflows.browse_reminder import BrowseReminderWorkflow
from workflows.conversion import ConversionInput, ConversionWorkflow
from workflows.program_rewards import ReferralRewardWorkflow
from workflows.return_purchase import ReturnPurchaseWorkflow
from workflows.search_attributes import CART_ID, CUSTOMER_ID, FLOW_KIND, ORDER_ID, STORE_ID
from workflows.types import AbandonedCartInput, BrowseReminderInput, ReturnPurchaseInput

log = logging.getLogger("shopstar.relay")
Plan = dict[str, list[Operation]]
# Temporal, or the way to it, is down: nothing could be delivered, so the batch waits whole.
OUTAGE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, RPCError):
        if exc.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            # A rate limit is everyone's; a message too large is one operation's.
            return "larger than max" not in exc.message
        return exc.status in OUTAGE
    return isinstance(exc, OSError | TimeoutError)


@dataclass(frozen=True)
class _Failed:
    ops: list[Operation]  # the operation that failed and those after it, not run
    exc: BaseException


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
        # Set while LISTEN is active: from then on a stored event wakes the relay at once.
        self.listening = asyncio.Event()

    async def run(self) -> None:
        """Deliver until cancelled: woken by NOTIFY, with polling as the fallback."""
        listener = asyncio.create_task(self._listen()) if self._listen_url else None
        backoff = 0.5
        try:
            while True:
                # Cleared before the batch, not after: a NOTIFY that arrives while it is
                # delivered wakes the next round instead of being lost until the next poll.
                self._wake.clear()
                try:
                    delivered = await self.deliver_batch()
                    await self.retry_set_aside()
                    backoff = 0.5
                except Exception:
                    # Nothing of the batch is marked delivered: it is tried again, in order.
                    log.warning("relay: delivery failed, retrying", exc_info=True)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                if delivered == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
        finally:
            if listener:
                listener.cancel()

    async def deliver_batch(self) -> int:
        """Deliver one batch; returns how many events it marked delivered (set-aside ones
        included: they are the set-aside records' to deliver now)."""
        async with self._sessionmaker.begin() as session:
            events = await claim_undelivered(session, self._batch_size)
            if not events:
                return 0
            held = await open_for_stores(session, {e.store_id for e in events})
            for store_id, row in held.items():
                queue_behind(row, [e for e in events if e.store_id == store_id])
            ready = [e for e in events if e.store_id not in held]
            plan = await self._plan(session, ready)
            await self._run_plan(session, plan, ready)
            await mark_delivered(session, [e.seq for e in events])
        return len(events)

    async def retry_set_aside(self, limit: int = 20) -> int:
        """Retry the set-aside records that are due; returns how many were tried."""
        async with self._sessionmaker.begin() as session:
            rows = await claim_due(session, limit)
            for row in rows:
                await self._retry(session, row)
        return len(rows)

    async def _retry(self, session: AsyncSession, row: RelayFailure) -> None:
        chunk = row.event_seqs[: self._batch_size]
        events = await load_events(session, chunk)
        try:
            plan = plan_operations(events, await routing_context(session, events))
        except Exception as exc:
            log.warning("relay: set-aside events still cannot be planned", exc_info=True)
            failed_again(row, "plan", exc)
            return
        if row.workflow_id is not None:
            plan = {row.workflow_id: plan[row.workflow_id]} if row.workflow_id in plan else {}
        failures = await self._run_plan(session, plan, events, retrying=row)
        if row.workflow_id in failures:
            failure = failures[row.workflow_id]
            failed_again(row, failure.ops[0].name, failure.exc)
            return
        delivered(row, len(chunk))
        log.info("relay: set-aside events delivered", extra={"relay_failure_id": row.id})

    async def _plan(self, session: AsyncSession, events: list[EventRow]) -> Plan:
        """The batch's operations; a store whose events cannot be planned (its flow config
        does not load, say) is set aside, not the batch."""
        try:
            return plan_operations(events, await routing_context(session, events))
        except Exception:
            log.warning("relay: batch cannot be planned, planning store by store", exc_info=True)
        plan: Plan = {}
        for store_id in dict.fromkeys(e.store_id for e in events):
            store_events = [e for e in events if e.store_id == store_id]
            try:
                plan |= plan_operations(store_events, await routing_context(session, store_events))
            except Exception as exc:
                log.warning(
                    "relay: events of a store set aside",
                    exc_info=True,
                    extra={"store_id": store_id},
                )
                set_aside(session, store_id, None, "plan", exc, store_events)
        return plan

    async def _run_plan(
        self,
        session: AsyncSession,
        plan: Plan,
        events: list[EventRow],
        retrying: RelayFailure | None = None,
    ) -> dict[str, _Failed]:
        """Run the plan; a failing operation is set aside with what follows it in its workflow.
        Returns the failures of the workflow being retried (it stays with its own record)."""
        by_seq = {e.seq: e for e in events}
        held = await open_for_workflows(session, {(ops[0].store_id, w) for w, ops in plan.items()})
        if retrying is not None:
            held.pop(retrying.workflow_id or "", None)
        plan = dict(plan)
        for workflow_id, row in held.items():
            queue_behind(row, _events_of(plan.pop(workflow_id), by_seq))
        failures = await self._run_all(plan)
        ran: list[Operation] = []
        for workflow_id, ops in plan.items():
            failed = failures.get(workflow_id)
            ran += ops[: len(ops) - len(failed.ops)] if failed else ops
            if failed is None or (retrying is not None and retrying.workflow_id == workflow_id):
                continue
            op = failed.ops[0]
            log.warning(
                "relay: operation set aside",
                exc_info=failed.exc,
                extra={"store_id": op.store_id, "workflow_id": workflow_id, "operation": op.name},
            )
            set_aside(
                session,
                op.store_id,
                workflow_id,
                op.name,
                failed.exc,
                _events_of(failed.ops, by_seq),
            )
        await record_runs_started(session, ran)
        return failures

    async def _run_all(self, plan: Plan) -> dict[str, _Failed]:
        failures: dict[str, _Failed] = {}

        async def run_in_order(workflow_id: str, ops: list[Operation]) -> None:
            for i, op in enumerate(ops):
                try:
                    async with self._limit:
                        await self._call(op)
                except Exception as exc:
                    if is_outage(exc):
                        raise  # cancels the rest; the transaction rolls back
                    failures[workflow_id] = _Failed(ops[i:], exc)
                    return

        async with asyncio.TaskGroup() as group:
            for workflow_id, ops in plan.items():
                group.create_task(run_in_order(workflow_id, ops))
        return failures

    async def _call(self, op: Operation) -> None:
        if op.program is not None:
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await start_program_run(self._client, op, op.program, self._task_queue)
            return
        if op.start is None:
            assert op.signal is not None and isinstance(op.kind, FlowKind)
            handle: WorkflowHandle[Any, Any] = self._client.get_workflow_handle(op.workflow_id)
            try:
                await handle.signal(signal_method(op.kind, op.signal), op.signal)
            except RPCError as exc:
                # A run that has ended has nothing left to cancel or restart.
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
            return
        # A plain start delivered twice finds its run already there.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await start_run(self._client, op, op.start, self._task_queue)

    async def _listen(self) -> None:
        assert self._listen_url is not None
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._listen_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.listening.set()
                    self._wake.set()  # anything stored before LISTEN is delivered too
                    async for _ in conn.notifies():
                        self._wake.set()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("relay: LISTEN connection lost", exc_info=exc)
                await asyncio.sleep(1.0)


def _events_of(ops: Iterable[Operation], by_seq: dict[int, EventRow]) -> list[EventRow]:
    seqs = sorted({op.seq for op in ops if op.seq in by_seq})
    return [by_seq[seq] for seq in seqs]


# Each run kind's signal handlers, by the signal's input type.
SIGNAL_METHODS: dict[tuple[FlowKind | ProgramKind, type[Signal]], Callable[[Any, Any], None]] = {
    (FlowKind.ABANDONED_CART, CartActivity): AbandonedCartWorkflow.cart_updated,
    (FlowKind.ABANDONED_CART, OrderCompleted): AbandonedCartWorkflow.order_placed,
    (FlowKind.ABANDONED_CART, CustomerErased): AbandonedCartWorkflow.customer_erased,
    (FlowKind.BROWSE_REMINDER, ProductView): BrowseReminderWorkflow.product_viewed,
    (FlowKind.BROWSE_REMINDER, CartActivity): BrowseReminderWorkflow.cart_updated,
    (FlowKind.BROWSE_REMINDER, OrderCompleted): BrowseReminderWorkflow.order_placed,
    (FlowKind.BROWSE_REMINDER, CustomerErased): BrowseReminderWorkflow.customer_erased,
    (FlowKind.RETURN_PURCHASE, CustomerErased): ReturnPurchaseWorkflow.customer_erased,
}


def signal_method(kind: FlowKind | ProgramKind, signal: Signal) -> Callable[[Any, Any], None]:
    """The handler of this signal on a run of this kind (a KeyError: a routing bug)."""
    return SIGNAL_METHODS[(kind, type(signal))]


async def start_run(client: Client, op: Operation, start: RunStart, task_queue: str) -> None:
    """Start the run by its workflow's `run` method with its typed input; with the operation's
    signal as signal-with-start, when there is one."""
    signal = op.signal
    method, run_input = _entry_point(op.store_id, start)
    await client.start_workflow(
        method,
        run_input,
        id=op.workflow_id,
        task_queue=task_queue,
        search_attributes=search_attributes(op.store_id, start),
        start_signal=signal.SIGNAL if signal is not None else None,
        start_signal_args=[signal] if signal is not None else [],
    )


async def start_program_run(
    client: Client, op: Operation, program: ProgramStart, task_queue: str
) -> None:
    """Start a program run: an order's (a commission, a referral, a conversion), once per order
    (a run that ended is not started again by a redelivered event), filed under StoreId,
    OrderId, FlowKind and, when there is one, CustomerId (ids only); or a customer's removal
    from every audience, once per event, filed under StoreId and FlowKind (no CustomerId: the
    run outlives the customer's erasure)."""
    if program.kind == ProgramKind.AUDIENCE_REMOVAL:
        await client.start_workflow(
            AudienceRemovalWorkflow.run,
            AudienceRemovalInput(op.store_id, program.customer_id or ""),
            id=op.workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(STORE_ID, op.store_id),
                    SearchAttributePair(FLOW_KIND, str(program.kind)),
                ]
            ),
        )
        return
    method: Callable[[Any, Any], Awaitable[Any]] = AffiliateCommissionWorkflow.run
    run_input: object = CommissionInput(op.store_id, program.order_id, program.holding_days)
    if program.kind == ProgramKind.REFERRAL:
        assert program.code is not None
        method = ReferralRewardWorkflow.run
        run_input = ReferralRewardInput(op.store_id, program.order_id, program.code)
    elif program.kind == ProgramKind.CONVERSION:
        assert program.conversion_id is not None and program.network is not None
        method = ConversionWorkflow.run
        run_input = ConversionInput(
            op.store_id, program.order_id, program.network, program.conversion_id
        )
    await client.start_workflow(
        method,
        run_input,
        id=op.workflow_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(STORE_ID, op.store_id),
                SearchAttributePair(FLOW_KIND, str(program.kind)),
                SearchAttributePair(ORDER_ID, program.order_id),
                *(
                    [SearchAttributePair(CUSTOMER_ID, program.customer_id)]
                    if program.customer_id
                    else []
                ),
            ]
        ),
    )


def _entry_point(
    store_id: str, start: RunStart
) -> tuple[Callable[[Any, Any], Awaitable[Any]], object]:
    """The workflow method that starts a run of this kind, and its typed input."""
    version, flow = start.flow_version, FlowPlan.of(start.flow)
    if start.kind == FlowKind.ABANDONED_CART:
        assert start.cart_id is not None
        cart = AbandonedCartInput(store_id, start.cart_id, start.customer_id, version, flow)
        return AbandonedCartWorkflow.run, cart
    assert start.customer_id is not None
    if start.kind == FlowKind.BROWSE_REMINDER:
        assert start.product_id is not None
        view = BrowseReminderInput(store_id, start.customer_id, start.product_id, version, flow)
        return BrowseReminderWorkflow.run, view
    assert start.order_id is not None
    order = ReturnPurchaseInput(store_id, start.customer_id, start.order_id, version, flow)
    return ReturnPurchaseWorkflow.run, order


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
