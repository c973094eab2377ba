"""What brought an order: its first and last touch, the flow message, the ad click and the
growth program, written once when `order.placed` is projected. The report's dimensions are
columns; the touches themselves are JSON as the visits hold them."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class OrderAttribution(Base):
    __tablename__ = "order_attributions"
    __table_args__ = (Index("ix_order_attributions_placed", "store_id", "placed_at"),)

    store_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    order_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    placed_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(32))
    visitor_id: Mapped[str | None] = mapped_column(String(200))
    # "event" (the platform said), "touches" (the visitor's visits) or "none".
    basis: Mapped[str] = mapped_column(String(16))
    first_touch: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    last_touch: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    first_source: Mapped[str | None] = mapped_column(String(500))
    first_medium: Mapped[str | None] = mapped_column(String(500))
    first_campaign: Mapped[str | None] = mapped_column(String(500))
    last_source: Mapped[str | None] = mapped_column(String(500))
    last_medium: Mapped[str | None] = mapped_column(String(500))
    last_campaign: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(40))
    flow: Mapped[str | None] = mapped_column(String(32))
    ad_campaign_id: Mapped[str | None] = mapped_column(String(40))
    ad_variant_key: Mapped[str | None] = mapped_column(String(200))
    affiliate_id: Mapped[str | None] = mapped_column(String(500))
    referral_code: Mapped[str | None] = mapped_column(String(500))
    share_token: Mapped[str | None] = mapped_column(String(500))
