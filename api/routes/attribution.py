"""Visits from the storefront, and what brought each order (docs/attribution.md)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from api.deps import AnyKey, SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.attribution import (
    AdClickCredit,
    AttributionReport,
    MessageCredit,
    OrderAttributionOut,
    ProgramCredit,
    Touch,
    VisitIn,
    VisitOut,
)
from services.attribution.orders import order_attribution
from services.attribution.report import GroupBy, attribution_report, period
from services.attribution.visits import record_visit

router = guarded_router(tags=["attribution"], responses={401: ERROR_SCHEMA})
Bound = Annotated[str | None, Query(max_length=64)]


@router.post(
    "/v1/storefront/visits",
    status_code=201,
    response_model=VisitOut,
    responses={422: ERROR_SCHEMA},
)
async def post_visit(body: VisitIn, session: SessionDep, caller: AnyKey) -> VisitOut:
    """A page view that landed from somewhere: its campaign tags, click ids and tokens."""
    record = await record_visit(
        session,
        caller.store_id,
        visitor_id=body.visitor_id,
        customer_id=body.customer_id,
        landing_url=body.landing_url,
        referrer=body.referrer or None,
        at=datetime.now(UTC),
    )
    return VisitOut(
        visit_id=record.visit.id,
        visitor_id=record.visit.visitor_id,
        visited_at=record.visit.visited_at,
        touch=Touch(**record.touch.as_dict()),
        first_visit_id=record.first_visit_id,
        last_touch_visit_id=record.last_touch_visit_id,
    )


@router.get(
    "/v1/orders/{order_id}/attribution",
    response_model=OrderAttributionOut,
    responses={403: ERROR_SCHEMA, 404: ERROR_SCHEMA},
)
async def get_order_attribution(
    order_id: str, session: SessionDep, caller: SecretKey
) -> OrderAttributionOut:
    """First and last touch, the flow message, the ad click and the program of an order."""
    row = await order_attribution(session, caller.store_id, order_id)
    return OrderAttributionOut(
        order_id=row.order_id,
        placed_at=row.placed_at,
        channel=row.channel,
        visitor_id=row.visitor_id,
        basis=row.basis,
        first_touch=Touch(**row.first_touch) if row.first_touch else None,
        last_touch=Touch(**row.last_touch) if row.last_touch else None,
        message=MessageCredit(message_id=row.message_id, flow=row.flow or "")
        if row.message_id
        else None,
        ad_click=AdClickCredit(campaign_id=row.ad_campaign_id, variant_key=row.ad_variant_key)
        if row.ad_campaign_id
        else None,
        program=ProgramCredit(
            affiliate_id=row.affiliate_id,
            referral_code=row.referral_code,
            share_token=row.share_token,
        ),
    )


@router.get(
    "/v1/reports/attribution",
    response_model=AttributionReport,
    responses={403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def get_attribution_report(
    session: SessionDep,
    caller: SecretKey,
    from_: Annotated[Bound, Query(alias="from")] = None,
    to: Bound = None,
    group_by: GroupBy = GroupBy.SOURCE,
) -> AttributionReport:
    """Orders and revenue per key over a period (default: the last 30 days; at most 366)."""
    span = period(from_, to, datetime.now(UTC))
    report = await attribution_report(session, caller.store_id, span, group_by)
    return AttributionReport.model_validate(report)
