"""The message log: one row per flow step decided."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.messages import MessageOut
from flow_contract import MessageStatus
from services.messaging.queries import list_messages
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(
    prefix="/v1/messages", tags=["messages"], responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA}
)


@router.get("", response_model=Page[MessageOut], responses={422: ERROR_SCHEMA})
async def get_messages(
    session: SessionDep,
    caller: SecretKey,
    customer_id: str | None = None,
    flow: str | None = None,
    status: MessageStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[MessageOut]:
    """Messages of the store, newest first, filtered by customer, flow and status."""
    rows, next_cursor = await list_messages(
        session,
        caller.store_id,
        customer_id=customer_id,
        flow=flow,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[MessageOut.model_validate(r) for r in rows], next_cursor=next_cursor)
