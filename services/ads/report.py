"""A campaign's figures per variant: impressions (reported), unique visitors who saw it, clicks,
CTR, the orders its clicks brought and their revenue per currency, and the probability that
each variant beats the control (the first variant) on CTR (services/ads/stats.py)."""

from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdConversion, AdImpression
from services.ads.campaigns import get_campaign
from services.ads.stats import METHOD, probability_beats


async def campaign_report(session: AsyncSession, store_id: str, campaign_id: str) -> dict[str, Any]:
    campaign = await get_campaign(session, store_id, campaign_id)
    seen = AdImpression.impressed_at.is_not(None)
    shown = await session.execute(
        select(
            AdImpression.variant_key,
            func.count().filter(seen),
            func.count(distinct(AdImpression.visitor_id)).filter(seen),
            func.count().filter(AdImpression.clicked_at.is_not(None)),
        )
        .where(AdImpression.campaign_id == campaign.id)
        .group_by(AdImpression.variant_key)
    )
    figures = {key: (imps, visitors, clicks) for key, imps, visitors, clicks in shown}
    sold = await session.execute(
        select(
            AdConversion.variant_key,
            AdConversion.currency,
            func.count(),
            func.sum(AdConversion.revenue),
        )
        .where(AdConversion.campaign_id == campaign.id)
        .group_by(AdConversion.variant_key, AdConversion.currency)
    )
    orders: dict[str, int] = {}
    revenue: dict[str, dict[str, int]] = {}
    for key, currency, count, total in sold:
        orders[key] = orders.get(key, 0) + count
        revenue.setdefault(key, {})[currency] = int(total)
    # Variants removed by a change still show, after the current ones.
    keys = [v["key"] for v in campaign.variants]
    keys += sorted((set(figures) | set(orders)) - set(keys))
    control = keys[0]
    c_imps, _, c_clicks = figures.get(control, (0, 0, 0))
    variants = []
    for key in keys:
        imps, visitors, clicks = figures.get(key, (0, 0, 0))
        variants.append(
            {
                "key": key,
                "impressions": imps,
                "unique_visitors": visitors,
                "clicks": clicks,
                "ctr": clicks / imps if imps else None,
                "orders": orders.get(key, 0),
                "revenue": revenue.get(key, {}),
                "probability_beats_control": None
                if key == control
                else probability_beats(c_clicks, c_imps, clicks, imps),
            }
        )
    return {"campaign_id": campaign.id, "control": control, "method": METHOD, "variants": variants}
