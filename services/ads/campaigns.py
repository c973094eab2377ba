"""Ad campaigns as staff manage them: create, read, change and end. The shape of each field is
checked by the API's schema; the rules across fields (unique variant keys, weights, schedule)
are checked here, on the campaign as it would stand after the change."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdCampaign
from services.ads.serving import forget_campaigns
from services.errors import Conflict, NotFound, invalid_field
from services.ids import new_id
from services.pagination import fetch_page


def status_of(campaign: AdCampaign, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if campaign.ended_at is not None or (campaign.ends_at is not None and campaign.ends_at <= now):
        return "ended"
    return "scheduled" if campaign.starts_at > now else "live"


def frequency_cap(campaign: AdCampaign) -> dict[str, int] | None:
    if campaign.cap_max_impressions is None or campaign.cap_window_seconds is None:
        return None
    return {
        "max_impressions": campaign.cap_max_impressions,
        "window_seconds": campaign.cap_window_seconds,
    }


def _check(campaign: AdCampaign) -> None:
    keys = [v["key"] for v in campaign.variants]
    if len(set(keys)) != len(keys):
        raise invalid_field("variants", "variant keys must be unique")
    weights = [v["weight"] for v in campaign.variants]
    if any(not isinstance(w, int) or w <= 0 for w in weights) or sum(weights) <= 0:
        raise invalid_field("variants", "weights must be positive integers")
    if len(set(campaign.placements)) != len(campaign.placements):
        raise invalid_field("placements", "a placement is listed twice")
    if campaign.ends_at is not None and campaign.ends_at <= campaign.starts_at:
        raise invalid_field("ends_at", "must be after starts_at")


def _apply(campaign: AdCampaign, fields: dict[str, Any]) -> None:
    for name in ("name", "placements", "targeting", "starts_at", "ends_at", "priority"):
        if name in fields:
            setattr(campaign, name, fields[name])
    if "variants" in fields:
        campaign.variants = fields["variants"]
    if "frequency_cap" in fields:
        cap = fields["frequency_cap"] or {}
        campaign.cap_max_impressions = cap.get("max_impressions")
        campaign.cap_window_seconds = cap.get("window_seconds")


async def create_campaign(
    session: AsyncSession, store_id: str, fields: dict[str, Any]
) -> AdCampaign:
    now = datetime.now(UTC)
    campaign = AdCampaign(
        id=new_id("adc"), store_id=store_id, created_at=now, updated_at=now, ended_at=None
    )
    _apply(campaign, {**fields, "starts_at": fields.get("starts_at") or now})
    _check(campaign)
    session.add(campaign)
    await session.flush()
    forget_campaigns(store_id)
    return campaign


async def get_campaign(
    session: AsyncSession, store_id: str, campaign_id: str, *, lock: bool = False
) -> AdCampaign:
    query = select(AdCampaign).where(AdCampaign.id == campaign_id, AdCampaign.store_id == store_id)
    campaign = await session.scalar(query.with_for_update() if lock else query)
    if campaign is None:
        raise NotFound("ad campaign not found", code="ad_campaign_not_found")
    return campaign


async def list_campaigns(
    session: AsyncSession, store_id: str, *, limit: int, cursor: str | None
) -> tuple[list[AdCampaign], str | None]:
    query = select(AdCampaign).where(AdCampaign.store_id == store_id)
    return await fetch_page(session, query, AdCampaign, limit, cursor)


async def update_campaign(
    session: AsyncSession, store_id: str, campaign_id: str, fields: dict[str, Any]
) -> AdCampaign:
    """Change what is given. Visitors keep the variant they were assigned: changing weights
    moves only visitors who have not been served yet; a removed variant's visitors are
    reassigned at their next serve."""
    campaign = await get_campaign(session, store_id, campaign_id, lock=True)
    if campaign.ended_at is not None:
        raise Conflict("the campaign has ended", code="ad_campaign_ended")
    if fields.get("starts_at") is None:
        fields.pop("starts_at", None)
    for required in ("name", "placements", "targeting", "priority", "variants"):
        if required in fields and fields[required] is None:
            raise invalid_field(required, "cannot be null")
    _apply(campaign, fields)
    _check(campaign)
    campaign.updated_at = datetime.now(UTC)
    await session.flush()
    forget_campaigns(store_id)
    return campaign


async def end_campaign(session: AsyncSession, store_id: str, campaign_id: str) -> AdCampaign:
    """Stop serving it at once; its figures stay. Ending an ended campaign changes nothing."""
    campaign = await get_campaign(session, store_id, campaign_id, lock=True)
    if campaign.ended_at is None:
        campaign.ended_at = campaign.updated_at = datetime.now(UTC)
        await session.flush()
        forget_campaigns(store_id)
    return campaign
