"""Event intake: store a validated batch in the append-only log and update the projections
(customers, products, carts, orders) in the same transaction."""

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.json_rows import rows_param
from services.channels.catalog_sync import mark_dirty
from services.errors import InvalidInput
from services.events.projections import apply_projections
from services.events.types import (
    MAX_BATCH,
    BatchRejected,
    ValidEvent,
    validate_batch,
    validate_body,
)

NOTIFY_CHANNEL = "shopstar_events"
# The whole batch in one statement of constant text (prepared once per connection), its rows as
# one JSON document: a text parameter costs the driver nothing to send, unlike text arrays.
_INSERT_EVENTS = text(
    """
    INSERT INTO events (store_id, event_id, type, occurred_at, data, received_at)
    SELECT :store_id, e.event_id, e.type, e.occurred_at, e.data, now()
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS e(event_id text, type text, occurred_at timestamptz, data jsonb)
    ON CONFLICT ON CONSTRAINT uq_events_store_event DO NOTHING
    RETURNING event_id
    """
)


@dataclass(frozen=True)
class IntakeResult:
    accepted: int
    duplicates: list[str]


def _invalid(problems: list[dict[str, Any]], count: int | None) -> InvalidInput:
    bad = len({p["index"] for p in problems})
    total = f" of {count}" if count is not None else ""
    return InvalidInput(f"{bad}{total} events are invalid; nothing was stored", details=problems)


async def accept_body(session: AsyncSession, store_id: str, body: bytes) -> IntakeResult:
    """A `{"events": [...]}` body as sent, validated straight from its bytes."""
    try:
        events = validate_body(body)
    except BatchRejected as rejected:
        if rejected.not_json:
            raise InvalidInput("the body is not valid JSON", code="invalid_json") from None
        problems = rejected.problems
        if problems and "index" not in problems[0]:
            raise InvalidInput("the request is not valid", details=problems) from None
        raise _invalid(problems, None) from None
    return await store_events(session, store_id, events)


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
        raise _invalid(problems, len(raw))
    return await store_events(session, store_id, events)


async def store_events(
    session: AsyncSession, store_id: str, events: list[ValidEvent]
) -> IntakeResult:
    unique: dict[str, ValidEvent] = {}
    for event in events:
        unique.setdefault(event.id, event)
    first = list(unique.values())
    rows = [
        {
            "event_id": e.id,
            "type": e.type,
            "occurred_at": e.occurred_at,
            # Serialised by pydantic (in Rust) and spliced in as is.
            "data": orjson.Fragment(e.data.model_dump_json(exclude_none=True)),
        }
        for e in first
    ]
    stored = set((await session.scalars(_INSERT_EVENTS, rows_param(store_id, rows))).all())
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
