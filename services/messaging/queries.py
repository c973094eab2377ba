"""The message log: what each flow step decided, as staff read it."""

from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import MessageStatus
from models import Message
from services.pagination import decode_cursor, encode_cursor


async def list_messages(
    session: AsyncSession,
    store_id: str,
    *,
    customer_id: str | None,
    flow: str | None,
    status: MessageStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[Message], str | None]:
    query = select(Message).where(Message.store_id == store_id)
    if customer_id is not None:
        query = query.where(Message.customer_id == customer_id)
    if flow is not None:
        query = query.where(Message.flow == flow)
    if status is not None:
        query = query.where(Message.status == status)
    if cursor is not None:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(tuple_(Message.created_at, Message.id) < tuple_(created_at, row_id))
    query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1)
    rows = (await session.scalars(query)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return rows, next_cursor
