"""Orders brought by an ad: the visitor's last ad click within 30 days before the order.
`last_ad_click` is the one place that decides which click that is (visit attribution reuses it)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdConversion, AdImpression

CLICK_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class AdClick:
    impression_id: str
    campaign_id: str
    variant_key: str
    clicked_at: datetime


async def last_ad_click(
    session: AsyncSession, store_id: str, visitor_id: str, before: datetime
) -> AdClick | None:
    """The visitor's latest ad click in the 30 days up to `before` (inclusive), if any."""
    row = (
        await session.execute(
            select(
                AdImpression.id,
                AdImpression.campaign_id,
                AdImpression.variant_key,
                AdImpression.clicked_at,
            )
            .where(
                AdImpression.store_id == store_id,
                AdImpression.visitor_id == visitor_id,
                AdImpression.clicked_at <= before,
                AdImpression.clicked_at >= before - CLICK_WINDOW,
            )
            .order_by(AdImpression.clicked_at.desc(), AdImpression.id.desc())
            .limit(1)
        )
    ).first()
    if row is None or row.clicked_at is None:
        return None
    return AdClick(row.id, row.campaign_id, row.variant_key, row.clicked_at)


async def record_ad_conversion(
    session: AsyncSession,
    store_id: str,
    *,
    order_id: str,
    click: AdClick | None,
    placed_at: datetime,
    revenue: int,
    currency: str,
) -> None:
    """Credit a newly placed order to the ad click that brought it (`last_ad_click`, found once
    by the order's attribution), once per order."""
    if click is None:
        return
    await session.execute(
        insert(AdConversion)
        .values(
            store_id=store_id,
            order_id=order_id,
            campaign_id=click.campaign_id,
            variant_key=click.variant_key,
            impression_id=click.impression_id,
            revenue=revenue,
            currency=currency,
            clicked_at=click.clicked_at,
            placed_at=placed_at,
        )
        .on_conflict_do_nothing()
    )
