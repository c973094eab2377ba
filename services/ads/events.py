"""Impressions and clicks the storefront reports with a served ad's token. Each is one
conditional UPDATE of the served row (`... IS NULL`), so a repeat or a concurrent duplicate is
counted once; a click counts only once the impression is recorded."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdImpression
from services.errors import Conflict, DomainError, NotFound


class ImpressionNotRecorded(Conflict):
    """A click on an ad whose impression was never reported."""

    code = "impression_not_recorded"


async def record_event(session: AsyncSession, store_id: str, token: str, kind: str) -> bool:
    """True when counted now, False when this token's event of this kind was counted before.
    Another store's token is unknown here (404)."""
    now = datetime.now(UTC)
    row = AdImpression
    mine = (row.token == token, row.store_id == store_id)
    if kind == "impression":
        counted = update(row).where(*mine, row.impressed_at.is_(None)).values(impressed_at=now)
    else:
        counted = (
            update(row)
            .where(*mine, row.clicked_at.is_(None), row.impressed_at.is_not(None))
            .values(clicked_at=now)
        )
    done = await session.scalar(
        counted.returning(row.id).execution_options(synchronize_session=False)
    )
    if done is not None:
        return True
    found = (await session.execute(select(row.impressed_at).where(*mine))).first()
    if found is None:
        raise NotFound("no ad was served with this token", code="impression_not_found")
    if kind == "click" and found.impressed_at is None:
        raise ImpressionNotRecorded("report the impression before the click")
    return False


async def record_events(
    session: AsyncSession, store_id: str, events: Sequence[tuple[str, str]]
) -> list[tuple[bool, str | None]]:
    """A beacon's batch of (token, kind), in order: each counted as `record_event` counts it,
    or refused with its error code; a refused event changes nothing, so the others stand."""
    results: list[tuple[bool, str | None]] = []
    for token, kind in events:
        try:
            results.append((await record_event(session, store_id, token, kind), None))
        except DomainError as exc:
            results.append((False, exc.code))
    return results
