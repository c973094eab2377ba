"""On-site ad campaigns, each visitor's pinned variant and frequency window, every ad served
(its opaque impression token) and the orders ad clicks brought. Visitors are the storefront's
pseudonymous ids: no contact details are kept here."""

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class AdCampaign(Timestamped, Base):
    __tablename__ = "ad_campaigns"
    __table_args__ = (Index("ix_ad_campaigns_store_created", "store_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    placements: Mapped[list[str]] = mapped_column(ARRAY(Text))
    targeting: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(Integer, default=0)
    cap_max_impressions: Mapped[int | None] = mapped_column(Integer)
    cap_window_seconds: Mapped[int | None] = mapped_column(Integer)
    # [{key, weight, creative}], in order: the first variant is the control of the report.
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    ended_at: Mapped[datetime | None]  # set by DELETE
    updated_at: Mapped[datetime]


class AdAssignment(Base):
    """A visitor's variant of a campaign, pinned at the first serve (a later change of weights
    does not move them), and the visitor's current frequency window on it. The primary key is
    what makes both hold under concurrent serves: one row, updated conditionally."""

    __tablename__ = "ad_assignments"
    __table_args__ = (Index("ix_ad_assignments_visitor", "store_id", "visitor_id"),)

    campaign_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("ad_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    visitor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    variant_key: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[datetime]
    window_started_at: Mapped[datetime]
    window_count: Mapped[int] = mapped_column(Integer)


class AdImpression(Base):
    """One ad served: the storefront reports its impression and click with the token."""

    __tablename__ = "ad_impressions"
    __table_args__ = (
        Index("ix_ad_impressions_campaign", "campaign_id", "variant_key"),
        Index("ix_ad_impressions_clicks", "store_id", "visitor_id", "clicked_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("ad_campaigns.id", ondelete="CASCADE")
    )
    variant_key: Mapped[str] = mapped_column(String(40))
    visitor_id: Mapped[str] = mapped_column(String(200))
    placement: Mapped[str] = mapped_column(String(32))
    served_at: Mapped[datetime]
    impressed_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]


class AdConversion(Base):
    """An order whose visitor clicked an ad within 30 days before it (the last click)."""

    __tablename__ = "ad_conversions"
    __table_args__ = (Index("ix_ad_conversions_campaign", "campaign_id", "variant_key"),)

    store_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    order_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("ad_campaigns.id", ondelete="CASCADE")
    )
    variant_key: Mapped[str] = mapped_column(String(40))
    impression_id: Mapped[str] = mapped_column(String(40))
    revenue: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    clicked_at: Mapped[datetime]
    placed_at: Mapped[datetime]
