"""The seam to on-site ads: the last ad click of a visitor before an order.

STUB (until merge): services/ads/ is built on another branch and exposes
`last_ad_click(session, store_id, visitor_id, before)`. The lead wires this function to it at
merge; until then no order is credited to an ad, and `ad_campaign_id`/`ad_variant_key` stay null."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class AdClick:
    campaign_id: str
    variant_key: str
    clicked_at: datetime


async def last_ad_click(
    session: AsyncSession, store_id: str, visitor_id: str, before: datetime
) -> AdClick | None:
    """STUB: always None. Wire to services/ads at merge."""
    return None
