"""Events the relay could not deliver to a run yet: set aside with their error, retried."""

from typing import Annotated, Literal

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.relay_failures import RelayFailureOut
from services.events.relay_failures import list_relay_failures
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(
    prefix="/v1/relay-failures",
    tags=["relay failures"],
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA},
)


@router.get("", response_model=Page[RelayFailureOut], responses={422: ERROR_SCHEMA})
async def get_relay_failures(
    session: SessionDep,
    caller: SecretKey,
    status: Literal["pending", "delivered"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[RelayFailureOut]:
    """The store's set-aside relay operations, newest first: pending or delivered since."""
    rows, next_cursor = await list_relay_failures(
        session, caller.store_id, status=status, limit=limit, cursor=cursor
    )
    return Page(items=[RelayFailureOut.model_validate(r) for r in rows], next_cursor=next_cursor)
