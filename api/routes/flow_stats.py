"""Per-step statistics of a flow."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from pydantic import AwareDatetime

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from services.errors import InvalidInput
from services.messaging.stats import flow_stats

router = guarded_router(
    prefix="/v1/flows", tags=["flows"], responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA}
)


@router.get("/{kind}/stats", responses={404: ERROR_SCHEMA, 422: ERROR_SCHEMA})
async def get_flow_stats(
    kind: str,
    session: SessionDep,
    caller: SecretKey,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
) -> dict[str, Any]:
    """Per step: sent, delivered, failed, suppressed by reason, attributed orders and revenue."""
    end = to or datetime.now(UTC)
    start = from_ or end - timedelta(days=30)
    if start >= end:
        raise InvalidInput("from must be before to", details=[{"field": "from"}])
    steps = await flow_stats(session, caller.store_id, kind, start, end)
    return {"flow": kind, "from": start, "to": end, "steps": steps}
