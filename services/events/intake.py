"""Event intake: store a validated batch in the append-only log and update the projections
(customers, products, carts, orders) in the same transaction."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Event
from services.channels.tiktok_catalog import mark_dirty
from services.errors import InvalidInput
from services.events.projections import apply_projections
from services.events.types import ValidEvent, validate_batch

NOTIFY_CHANNEL = "shopstar_events"
MAX_BATCH = 500


@dataclass(frozen=True)
class IntakeResult:
    accepted: int
    duplicates: list[str]


async def accept_events(session: AsyncSession, store_id: str, raw: list[Any]) -> IntakeResult:
    """Validate the whole batch (nothing is stored if one event is bad), then store the events
    not seen before and project them. The caller commits; only then is the batch accepted."""
    if not 1 <= len(raw) <= MAX_BATCH:
        raise InvalidInput(
            f"a batch holds 1 to {MAX_BATCH} events, this one has {len(raw)}",
            details=[{"field": "events", "message": "batch size"}],
        )
    events, problems = validate_batch(raw)
    if problems:
        bad = len({p["index"] for p in problems})
        raise InvalidInput(
            f"{bad} of {len(raw)} events are invalid; nothing was stored", details=problems
        )
    unique: dict[str, ValidEvent] = {}
    for event in events:
        unique.setdefault(event.id, event)
    rows = [
        {
            "store_id": store_id,
            "event_id": e.id,
            "type": e.type,
            "occurred_at": e.occurred_at,
            "data": e.data.model_dump(mode="json", exclude_none=True),
        }
        for e in unique.values()
    ]
    stmt = (
        insert(Event)
        .on_conflict_do_nothing(constraint="uq_events_store_event")
        .returning(Event.event_id)
    )
    # Parameters apart from the statement: compiled once and cached, sent as batched VALUES.
    stored = set((await session.scalars(stmt, rows)).all())
    new_events = [e for e in events if e.id in stored and unique[e.id] is e]
    if new_events:
        await apply_projections(session, store_id, new_events)
        # A catalog change is pushed to the store's social shops (docs/channels.md).
        changed = [
            str(getattr(e.data, "product_id", ""))
            for e in new_events
            if e.type in ("product.upserted", "product.deleted")
        ]
        await mark_dirty(session, store_id, changed)
        await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    duplicates = [e.id for e in events if not (e.id in stored and unique[e.id] is e)]
    return IntakeResult(accepted=len(new_events), duplicates=duplicates)
