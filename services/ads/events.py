"""Impressions and clicks the storefront reports with a served ad's token, one or a beacon's
batch at a time. Each kind is one conditional UPDATE of the served rows (`... IS NULL`), so a
repeat or a concurrent duplicate is counted once; a click counts only once the impression is
recorded."""

from collections.abc import Sequence
from datetime import UTC, datetime

from models.database import Statements
from services.errors import Conflict, NotFound

NOT_FOUND = "impression_not_found"


class ImpressionNotRecorded(Conflict):
    """A click on an ad whose impression was never reported."""

    code = "impression_not_recorded"


# Constant text (psycopg prepares a statement run 5 times on a connection). One statement a
# kind: each kind is counted once per token (a click only after its impression), and every
# named token the store has comes back, counted now or not, with whether its impression was
# recorded as this statement saw it (a click whose impression another request records at the
# same moment is refused: it came before the impression).
_COUNT = """
    WITH counted AS (
        UPDATE ad_impressions SET {column} = %(now)s
        WHERE store_id = %(store)s AND token = ANY(%(tokens)s::text[]) AND {column} IS NULL
          {condition}
        RETURNING token
    )
    SELECT a.token, c.token IS NOT NULL, a.impressed_at IS NOT NULL OR c.token IS NOT NULL
    FROM ad_impressions a LEFT JOIN counted c ON c.token = a.token
    WHERE a.store_id = %(store)s AND a.token = ANY(%(tokens)s::text[])
"""
_STATEMENTS = {
    "impression": _COUNT.format(column="impressed_at", condition=""),
    "click": _COUNT.format(column="clicked_at", condition="AND impressed_at IS NOT NULL"),
}


def single_outcome(outcome: tuple[bool, str | None]) -> bool:
    """One event's outcome as its own request answers it: True when counted now, False when
    this token's event of this kind was counted before; another store's token is unknown here
    (404), a click before its impression is refused (409)."""
    counted, error = outcome
    if error == NOT_FOUND:
        raise NotFound("no ad was served with this token", code=NOT_FOUND)
    if error is not None:
        raise ImpressionNotRecorded("report the impression before the click")
    return counted


async def record_events(
    db: Statements, store_id: str, events: Sequence[tuple[str, str]]
) -> list[tuple[bool, str | None]]:
    """A beacon's batch of (token, kind) in two statements, whatever its size: the
    impressions are recorded first, then the clicks (a click in the same batch as its
    impression counts), each token and kind once (its first occurrence says `counted`); an
    event that cannot be counted gets its error code and changes nothing, so the others stand."""
    now = datetime.now(UTC)
    counted: set[tuple[str, str]] = set()
    impressed: dict[str, bool] = {}  # the store's tokens among the events
    for kind in ("impression", "click"):
        if tokens := sorted({t for t, k in events if k == kind}):
            params = {"store": store_id, "tokens": tokens, "now": now}
            for token, now_counted, seen in await db.all(_STATEMENTS[kind], params):
                if now_counted:
                    counted.add((token, kind))
                impressed[token] = seen
    results: list[tuple[bool, str | None]] = []
    first = set(counted)
    for token, kind in events:
        if (token, kind) in first:
            first.discard((token, kind))  # its first occurrence counts
            results.append((True, None))
        elif (token, kind) in counted:
            results.append((False, None))  # a repeat within the batch
        elif token not in impressed:
            results.append((False, NOT_FOUND))
        elif kind == "click" and not impressed[token]:
            results.append((False, ImpressionNotRecorded.code))
        else:
            results.append((False, None))  # counted before
    return results
