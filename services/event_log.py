"""The relay's view of the event log and of the runs it started."""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import case, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Cart, Event, RecoveryRun
from services.flows import current_flow
from services.routing import BROWSE, CART, RETURN, EventRow, Operation, RoutingContext

RELAYED_TYPES = ("cart.updated", "product.viewed", "order.placed", "customer.erased")
FLOW_EVENTS = {"cart.updated": CART, "product.viewed": BROWSE, "order.placed": RETURN}


async def claim_undelivered(session: AsyncSession, limit: int) -> list[EventRow]:
    """Lock the oldest undelivered events; other relays skip them (SKIP LOCKED)."""
    rows = await session.execute(
        select(Event.seq, Event.store_id, Event.event_id, Event.type, Event.data)
        .where(Event.delivered_at.is_(None))
        .order_by(Event.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [EventRow(r.seq, r.store_id, r.event_id, r.type, r.data) for r in rows]


async def mark_delivered(session: AsyncSession, seqs: list[int]) -> None:
    await session.execute(
        update(Event).where(Event.seq.in_(seqs)).values(delivered_at=datetime.now(UTC))
    )


async def routing_context(session: AsyncSession, events: list[EventRow]) -> RoutingContext:
    relevant = [e for e in events if e.type in RELAYED_TYPES]
    flows = {}
    for store_id, kind in {
        (e.store_id, FLOW_EVENTS[e.type]) for e in relevant if e.type in FLOW_EVENTS
    }:
        version, config = await current_flow(session, store_id, kind)
        if config.enabled and config.steps:
            flows[(store_id, kind)] = (version, config)
    ctx = RoutingContext(flows=flows)
    anonymous = {
        (e.store_id, e.data["cart_id"])
        for e in relevant
        if e.type == "cart.updated" and not e.data.get("customer_id")
    }
    if anonymous:
        rows = await session.execute(
            select(Cart.store_id, Cart.cart_id, Cart.customer_id).where(
                tuple_(Cart.store_id, Cart.cart_id).in_(anonymous), Cart.customer_id.is_not(None)
            )
        )
        ctx.cart_customers = {(r.store_id, r.cart_id): r.customer_id for r in rows}
    customers = {
        (e.store_id, e.data["customer_id"])
        for e in relevant
        if e.data.get("customer_id") and e.type != "product.viewed"
    }
    customers |= {(store, c) for (store, _), c in ctx.cart_customers.items()}
    if customers:
        rows = await session.execute(
            select(RecoveryRun.store_id, RecoveryRun.customer_id, RecoveryRun.workflow_id).where(
                tuple_(RecoveryRun.store_id, RecoveryRun.customer_id).in_(customers),
                RecoveryRun.closed_at.is_(None),
            )
        )
        for r in rows:
            ctx.open_runs.setdefault((r.store_id, r.customer_id), []).append(r.workflow_id)
    return ctx


async def record_runs_started(session: AsyncSession, operations: Iterable[Operation]) -> None:
    """Remember which customer each started run belongs to, so an order finds it without
    asking Temporal's eventually consistent visibility store. A closed row is reopened."""
    now = datetime.now(UTC)
    rows = {
        op.workflow_id: {
            "store_id": op.store_id,
            "workflow_id": op.workflow_id,
            "kind": op.start.kind,
            "customer_id": op.start.customer_id,
            "cart_id": op.start.cart_id,
            "started_at": now,
        }
        for op in operations
        if op.start is not None
    }
    if not rows:
        return
    stmt = insert(RecoveryRun).values(list(rows.values()))
    reopened = RecoveryRun.closed_at.is_not(None)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[RecoveryRun.store_id, RecoveryRun.workflow_id],
            set_={
                "customer_id": stmt.excluded.customer_id,
                "started_at": case(
                    (reopened, stmt.excluded.started_at), else_=RecoveryRun.started_at
                ),
                "closed_at": None,
                "outcome": None,
            },
        )
    )


async def close_run(session: AsyncSession, store_id: str, workflow_id: str, outcome: str) -> None:
    await session.execute(
        update(RecoveryRun)
        .where(RecoveryRun.store_id == store_id, RecoveryRun.workflow_id == workflow_id)
        .values(closed_at=datetime.now(UTC), outcome=outcome)
    )
