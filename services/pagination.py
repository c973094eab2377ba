"""Opaque keyset cursors for lists ordered newest first by (created_at, id)."""

import base64
import json
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import invalid_field

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Ours are well under 400 characters; anything longer did not come from us.
MAX_CURSOR_LENGTH = 1000


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """A cursor we did not make is a 422 `invalid_cursor`; deeply nested JSON (RecursionError)
    included."""
    invalid = invalid_field("cursor", "not a cursor from this list: start again without one")
    invalid.code = "invalid_cursor"
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(created, str) or not isinstance(row_id, str):
            raise TypeError("cursor parts must be strings")
        return datetime.fromisoformat(created), row_id
    except (ValueError, TypeError, RecursionError) as exc:
        raise invalid from exc


class Listed(Protocol):
    created_at: datetime
    id: str


Row = TypeVar("Row", bound=Listed)


async def fetch_page(
    session: AsyncSession,
    query: Select[Row],
    model: Any,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row], str | None]:
    """One page of `query` over `model` (with `created_at` and `id` columns), newest first."""
    if cursor is not None:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(tuple_(model.created_at, model.id) < tuple_(created_at, row_id))
    query = query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id)
