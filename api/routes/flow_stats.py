"""Per-step statistics of a flow, and its lift over its holdout group."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from pydantic import AwareDatetime

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.flows import FlowLift
from services.errors import InvalidInput
from services.messaging.flows import current_flow
from services.messaging.lift import flow_lift
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
    start, end = _period(from_, to)
    steps = await flow_stats(session, caller.store_id, kind, start, end)
    return {"flow": kind, "from": start, "to": end, "steps": steps}


@router.get(
    "/{kind}/lift", response_model=FlowLift, responses={404: ERROR_SCHEMA, 422: ERROR_SCHEMA}
)
async def get_flow_lift(
    kind: str,
    session: SessionDep,
    caller: SecretKey,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
) -> FlowLift:
    """The runs started in [from, to) (default: the last 30 days), treated against held out:
    runs, converted runs, conversion rate and revenue per run, the differences with 95%
    confidence intervals, and the incremental revenue (docs/holdouts.md)."""
    start, end = _period(from_, to)
    _, config = await current_flow(session, caller.store_id, kind)
    lift = await flow_lift(session, caller.store_id, kind, start, end)
    return FlowLift(flow=kind, start=start, to=end, holdout_percent=config.holdout_percent, **lift)


def _period(from_: datetime | None, to: datetime | None) -> tuple[datetime, datetime]:
    end = to or datetime.now(UTC)
    try:
        start = from_ or end - timedelta(days=30)
    except OverflowError:  # `to` within 30 days of year 1
        raise InvalidInput(
            "to is too early for the default from", details=[{"field": "to"}]
        ) from None
    if start >= end:
        raise InvalidInput("from must be before to", details=[{"field": "from"}])
    return start, end
