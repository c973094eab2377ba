"""The relay's view of the event log and of the runs it started."""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Cart, Event, FlowRunGroup, RecoveryRun
from models.database import SessionStatements
from services.channels.audience_sync import customers_with_uploads
from services.channels.conversions import runs_to_start
from services.events.routing import (
    BROWSE,
    CART,
    RETURN,
    EventRow,
    Operation,
    RoutingContext,
    leaves_audiences,
    order_codes,
)
from services.growth.commissions import hold_days
from services.growth.referrals import known_codes
from services.messaging.flows import current_flow
from services.messaging.holdout import in_holdout

RELAYED_TYPES = (
    "cart.updated",
    "product.viewed",
    "order.placed",
    "customer.erased",
    "order.refunded",
    "order.cancelled",
)
FLOW_EVENTS = {"cart.updated": CART, "product.viewed": BROWSE, "order.placed": RETURN}


# The stores with undelivered events, found by skipping through the index (one probe per
# store, however many events a store has queued); then up to `limit` of each store's oldest,
# taken round-robin (every store's first, then every store's second, ...), so one store's flood
# cannot delay another store's events by more than one batch.
_FAIR_BATCH = text(
    """
    WITH RECURSIVE stores(store_id) AS (
        (SELECT store_id FROM events WHERE delivered_at IS NULL ORDER BY store_id LIMIT 1)
        UNION ALL
        SELECT (SELECT e.store_id FROM events e
                WHERE e.delivered_at IS NULL AND e.store_id > s.store_id
                ORDER BY e.store_id LIMIT 1)
        FROM stores s WHERE s.store_id IS NOT NULL
    ),
    candidates AS (
        SELECT c.seq, row_number() OVER (PARTITION BY s.store_id ORDER BY c.seq) AS turn
        FROM stores s CROSS JOIN LATERAL (
            SELECT e.seq FROM events e
            WHERE e.store_id = s.store_id AND e.delivered_at IS NULL
            ORDER BY e.seq LIMIT :limit
        ) c
        WHERE s.store_id IS NOT NULL
    )
    SELECT seq FROM candidates ORDER BY turn, seq LIMIT :limit
    """
)

# What routing reads of an event.
_COLUMNS = (
    Event.seq,
    Event.store_id,
    Event.event_id,
    Event.type,
    Event.data,
    Event.occurred_at,
    Event.received_at,
)


async def claim_undelivered(session: AsyncSession, limit: int) -> list[EventRow]:
    """Lock a fair share of each store's oldest undelivered events; other relays skip them
    (SKIP LOCKED)."""
    seqs = (await session.execute(_FAIR_BATCH, {"limit": limit})).scalars().all()
    if not seqs:
        return []
    rows = await session.execute(
        select(*_COLUMNS)
        .where(Event.seq.in_(seqs), Event.delivered_at.is_(None))
        .order_by(Event.seq)
        .with_for_update(skip_locked=True)
    )
    return [_row(r) for r in rows]


async def load_events(session: AsyncSession, seqs: list[int]) -> list[EventRow]:
    """Events set aside earlier, in order (delivered or not)."""
    rows = await session.execute(select(*_COLUMNS).where(Event.seq.in_(seqs)).order_by(Event.seq))
    return [_row(r) for r in rows]


def _row(r: Any) -> EventRow:
    return EventRow(r.seq, r.store_id, r.event_id, r.type, r.data, r.occurred_at, r.received_at)


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
    ctx = RoutingContext(flows=flows, now=datetime.now(UTC))
    orders = [e for e in relevant if e.type == "order.placed"]
    ctx.commissions = await hold_days(session, {(e.store_id, e.data["order_id"]) for e in orders})
    codes = {(e.store_id, c) for e in orders for c in order_codes(e.data)}
    ctx.referral_codes = await known_codes(session, codes)
    ctx.conversions = await runs_to_start(
        session,
        {(e.store_id, e.data["order_id"]) for e in orders},
        {
            (e.store_id, e.event_id)
            for e in relevant
            if e.type in ("order.refunded", "order.cancelled")
        },
    )
    ctx.audience_customers = await customers_with_uploads(
        session, {(e.store_id, e.data["customer_id"]) for e in events if leaves_audiences(e)}
    )
    carts = {(e.store_id, e.data["cart_id"]) for e in relevant if e.type == "cart.updated"}
    if carts:
        # The projection's time of each cart: a cart update older than it is stale.
        rows = await session.execute(
            select(Cart.store_id, Cart.cart_id, Cart.updated_at).where(
                tuple_(Cart.store_id, Cart.cart_id).in_(carts)
            )
        )
        ctx.cart_updated_at = {(r.store_id, r.cart_id): r.updated_at for r in rows}
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
    operations = list(operations)
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
    started = await session.execute(
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
        ).returning(RecoveryRun.workflow_id, RecoveryRun.started_at)
    )
    await _record_groups(session, operations, started.tuples().all())


async def _record_groups(
    session: AsyncSession, operations: Iterable[Operation], started: Sequence[tuple[str, datetime]]
) -> None:
    """One group row per run started: a run still open keeps its `started_at`, so its row is
    there already. The group is the one the run's own start decides (its first start in the
    batch: later ones only signal it), by its pinned flow's `holdout_percent`."""
    first: dict[str, Operation] = {}
    for op in operations:
        if op.start is not None and op.start.customer_id:
            first.setdefault(op.workflow_id, op)
    rows = []
    for workflow_id, started_at in started:
        if workflow_id not in first:
            continue
        op = first[workflow_id]
        run = op.start
        if run is None or run.customer_id is None:
            continue
        holdout = in_holdout(op.store_id, run.kind, run.customer_id, run.flow.holdout_percent)
        rows.append(
            {
                "store_id": op.store_id,
                "workflow_id": workflow_id,
                "started_at": started_at,
                "kind": run.kind,
                "customer_id": run.customer_id,
                "holdout": holdout,
            }
        )
    if rows:
        await session.execute(insert(FlowRunGroup).values(rows).on_conflict_do_nothing())


_CLOSE_RUN = """
    UPDATE recovery_runs SET closed_at = %(now)s, outcome = %(outcome)s
    WHERE store_id = %(store_id)s AND workflow_id = %(workflow_id)s
"""


async def close_run(session: AsyncSession, store_id: str, workflow_id: str, outcome: str) -> None:
    """Once at the end of every run: one statement on the driver."""
    params = {
        "now": datetime.now(UTC),
        "outcome": outcome,
        "store_id": store_id,
        "workflow_id": workflow_id,
    }
    await SessionStatements(session).all(_CLOSE_RUN, params)
