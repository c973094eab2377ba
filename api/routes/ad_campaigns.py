"""On-site ad campaigns (docs/ads.md): staff create, change and end them, and read their report."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.ad_campaigns import (
    AdCampaignIn,
    AdCampaignOut,
    AdCampaignPatch,
    AdCampaignReport,
)
from api.schemas.common import Page
from models import AdCampaign
from services.ads import campaigns, report
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(tags=["ad campaigns"], responses={401: ERROR_SCHEMA})
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _out(campaign: AdCampaign) -> AdCampaignOut:
    return AdCampaignOut.model_validate(
        {
            **{c: getattr(campaign, c) for c in AdCampaignOut.model_fields if hasattr(campaign, c)},
            "status": campaigns.status_of(campaign),
            "frequency_cap": campaigns.frequency_cap(campaign),
        }
    )


@router.post(
    "/v1/ad-campaigns", status_code=201, response_model=AdCampaignOut, responses={422: ERROR_SCHEMA}
)
async def create_ad_campaign(
    body: AdCampaignIn, session: SessionDep, caller: SecretKey
) -> AdCampaignOut:
    """A campaign: where it shows, to whom, when, how often, and its A/B variants."""
    campaign = await campaigns.create_campaign(session, caller.store_id, body.model_dump())
    return _out(campaign)


@router.get("/v1/ad-campaigns", response_model=Page[AdCampaignOut], responses={422: ERROR_SCHEMA})
async def list_ad_campaigns(
    session: SessionDep,
    caller: SecretKey,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AdCampaignOut]:
    """The store's campaigns, newest first."""
    rows, next_cursor = await campaigns.list_campaigns(
        session, caller.store_id, limit=limit, cursor=cursor
    )
    return Page(items=[_out(r) for r in rows], next_cursor=next_cursor)


@router.get("/v1/ad-campaigns/{campaign_id}", response_model=AdCampaignOut)
async def get_ad_campaign(
    campaign_id: str, session: SessionDep, caller: SecretKey
) -> AdCampaignOut:
    campaign = await campaigns.get_campaign(session, caller.store_id, campaign_id)
    return _out(campaign)


# PATCH is registered before DELETE: the isolation test changes a campaign of its own before
# it ends one (an ended campaign takes no changes).
@router.patch(
    "/v1/ad-campaigns/{campaign_id}",
    response_model=AdCampaignOut,
    responses={409: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def update_ad_campaign(
    campaign_id: str, body: AdCampaignPatch, session: SessionDep, caller: SecretKey
) -> AdCampaignOut:
    """Change the fields given (409 `ad_campaign_ended` once ended). Visitors keep their variant
    when weights change."""
    fields = body.model_dump(exclude_unset=True)
    campaign = await campaigns.update_campaign(session, caller.store_id, campaign_id, fields)
    return _out(campaign)


@router.delete("/v1/ad-campaigns/{campaign_id}", response_model=AdCampaignOut)
async def end_ad_campaign(
    campaign_id: str, session: SessionDep, caller: SecretKey
) -> AdCampaignOut:
    """End the campaign: it stops serving at once; its report stays."""
    campaign = await campaigns.end_campaign(session, caller.store_id, campaign_id)
    return _out(campaign)


@router.get("/v1/ad-campaigns/{campaign_id}/report", response_model=AdCampaignReport)
async def ad_campaign_report(
    campaign_id: str, session: SessionDep, caller: SecretKey
) -> AdCampaignReport:
    """Per variant: impressions, unique visitors, clicks, CTR, attributed orders and revenue,
    and the probability of beating the control (the first variant) on CTR."""
    figures = await report.campaign_report(session, caller.store_id, campaign_id)
    return AdCampaignReport.model_validate(figures)
