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


# Constant text (psycopg prepares a statement run 5 times on a connection): each kind is
# counted once per token, a click only after its impression.
_IMPRESSIONS = """
    UPDATE ad_impressions SET impressed_at = %(now)s
    WHERE store_id = %(store)s AND token = ANY(%(tokens)s::text[]) AND impressed_at IS NULL
    RETURNING token
"""
_CLICKS = """
    UPDATE ad_impressions SET clicked_at = %(now)s
    WHERE store_id = %(store)s AND token = ANY(%(tokens)s::text[]) AND clicked_at IS NULL
      AND impressed_at IS NOT NULL
    RETURNING token
"""
_KNOWN = """
    SELECT token, impressed_at IS NOT NULL FROM ad_impressions
    WHERE store_id = %(store)s AND token = ANY(%(tokens)s::text[])
"""


def single_outcome(store_outcome: tuple[bool, str | None]) -> bool:
    """One event's outcome as its own request answers it: True when counted now, False when
    this token's event of this kind was counted before; another store's token is unknown here
    (404), a click before its impression is refused (409)."""
    counted, error = store_outcome
    if error == NOT_FOUND:
        raise NotFound("no ad was served with this token", code=NOT_FOUND)
    if error is not None:
        raise ImpressionNotRecorded("report the impression before the click")
    return counted


async def record_events(
    db: Statements, store_id: str, events: Sequence[tuple[str, str]]
) -> list[tuple[bool, str | None]]:
    """A beacon's batch of (token, kind) in three statements, whatever its size: the
    impressions are recorded first, then the clicks (a click in the same batch as its
    impression counts), each token and kind once (its first occurrence says `counted`); an
    event that cannot be counted gets its error code and changes nothing, so the others stand."""
    now = datetime.now(UTC)
    wanted = {kind: sorted({t for t, k in events if k == kind}) for kind in ("impression", "click")}
    counted: set[tuple[str, str]] = set()
    for kind, statement in (("impression", _IMPRESSIONS), ("click", _CLICKS)):
        if wanted[kind]:
            params = {"store": store_id, "tokens": wanted[kind], "now": now}
            done = await db.all(statement, params)
            counted |= {(token, kind) for (token,) in done}
    unsettled = sorted({t for t, k in events if (t, k) not in counted})
    known: dict[str, bool] = {}
    if unsettled:
        params = {"store": store_id, "tokens": unsettled}
        known = {token: impressed for token, impressed in await db.all(_KNOWN, params)}
    results: list[tuple[bool, str | None]] = []
    first = set(counted)
    for token, kind in events:
        if (token, kind) in first:
            first.discard((token, kind))  # its first occurrence counts
            results.append((True, None))
        elif (token, kind) in counted:
            results.append((False, None))  # a repeat within the batch
        elif token not in known:
            results.append((False, NOT_FOUND))
        elif kind == "click" and not known[token]:
            results.append((False, ImpressionNotRecorded.code))
        else:
            results.append((False, None))  # counted before
    return results
