"""Relay operations set aside: one failing operation (or one store whose events cannot be
planned) waits here with its error and is retried with backoff on its own, while the rest of
the batch and every other store go on. Later events of the same workflow queue up behind it,
so a run still gets its events in order."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import RelayFailure
from services.events.routing import EventRow
from services.ids import new_id
from services.pagination import fetch_page

FIRST_RETRY = timedelta(seconds=10)
LAST_RETRY = timedelta(hours=1)
ERROR_CHARS = 2000


def next_attempt(attempts: int, now: datetime) -> datetime:
    """10 s, 20 s, 40 s, ... at most an hour apart."""
    return now + min(FIRST_RETRY * (1 << min(attempts - 1, 20)), LAST_RETRY)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]


async def open_for_stores(session: AsyncSession, store_ids: set[str]) -> dict[str, RelayFailure]:
    """Stores whose events are set aside before planning, locked for this transaction."""
    rows = await session.scalars(
        select(RelayFailure)
        .where(
            RelayFailure.store_id.in_(store_ids),
            RelayFailure.workflow_id.is_(None),
            RelayFailure.resolved_at.is_(None),
        )
        .with_for_update()
    )
    return {r.store_id: r for r in rows}


async def open_for_workflows(
    session: AsyncSession, keys: set[tuple[str, str]]
) -> dict[str, RelayFailure]:
    """Workflows with an operation set aside, locked for this transaction."""
    if not keys:
        return {}
    rows = await session.scalars(
        select(RelayFailure)
        .where(
            tuple_(RelayFailure.store_id, RelayFailure.workflow_id).in_(keys),
            RelayFailure.resolved_at.is_(None),
        )
        .with_for_update()
    )
    return {r.workflow_id: r for r in rows if r.workflow_id is not None}


def set_aside(
    session: AsyncSession,
    store_id: str,
    workflow_id: str | None,
    operation: str,
    exc: BaseException,
    events: Sequence[EventRow],
) -> RelayFailure:
    now = datetime.now(UTC)
    row = RelayFailure(
        id=new_id("rfl"),
        store_id=store_id,
        workflow_id=workflow_id,
        operation=operation,
        error=describe(exc),
        attempts=1,
        event_seqs=[e.seq for e in events],
        event_ids=[e.event_id for e in events],
        next_attempt_at=next_attempt(1, now),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row


def queue_behind(row: RelayFailure, events: Sequence[EventRow]) -> None:
    """Later events of a set-aside workflow (or store) wait behind it, in order."""
    known = set(row.event_seqs)
    fresh = [e for e in events if e.seq not in known]
    row.event_seqs = [*row.event_seqs, *(e.seq for e in fresh)]
    row.event_ids = [*row.event_ids, *(e.event_id for e in fresh)]
    row.updated_at = datetime.now(UTC)


def failed_again(row: RelayFailure, operation: str, exc: BaseException) -> None:
    now = datetime.now(UTC)
    row.attempts += 1
    row.operation = operation
    row.error = describe(exc)
    row.next_attempt_at = next_attempt(row.attempts, now)
    row.updated_at = now


def delivered(row: RelayFailure, count: int) -> None:
    """The first `count` events went through; the row is resolved when none is left."""
    now = datetime.now(UTC)
    row.event_seqs = row.event_seqs[count:]
    row.event_ids = row.event_ids[count:]
    row.updated_at = now
    if not row.event_seqs:
        row.resolved_at = now
    else:
        row.next_attempt_at = now


async def claim_due(session: AsyncSession, limit: int) -> list[RelayFailure]:
    rows = await session.scalars(
        select(RelayFailure)
        .where(
            RelayFailure.resolved_at.is_(None), RelayFailure.next_attempt_at <= datetime.now(UTC)
        )
        .order_by(RelayFailure.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows)


async def retry_store_now(session: AsyncSession, store_id: str) -> None:
    """Staff changed something (a flow was saved): try the store's set-aside events again now."""
    await session.execute(
        update(RelayFailure)
        .where(RelayFailure.store_id == store_id, RelayFailure.resolved_at.is_(None))
        .values(next_attempt_at=datetime.now(UTC))
    )


async def list_relay_failures(
    session: AsyncSession, store_id: str, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[RelayFailure], str | None]:
    query = select(RelayFailure).where(RelayFailure.store_id == store_id)
    if status == "pending":
        query = query.where(RelayFailure.resolved_at.is_(None))
    elif status == "delivered":
        query = query.where(RelayFailure.resolved_at.is_not(None))
    return await fetch_page(session, query, RelayFailure, limit, cursor)
