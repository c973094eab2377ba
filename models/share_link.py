"""Share links of the sharing program and the unique visitors they brought. A link holds the
sharer's customer id only; `customer.erased` clears it and disables the link."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class ShareLink(Timestamped, Base):
    __tablename__ = "share_links"
    __table_args__ = (
        UniqueConstraint("token"),
        Index("ix_share_links_customer", "store_id", "customer_id"),
        # The worker's outbox: qualified links whose reward run is not started yet.
        Index(
            "ix_share_links_outbox",
            "id",
            postgresql_where=sql_text("qualified_at IS NOT NULL AND run_started_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str | None] = mapped_column(String(200))
    product_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)
    visits: Mapped[int] = mapped_column(Integer, default=0)  # unique visitors counted
    orders: Mapped[int] = mapped_column(Integer, default=0)  # orders attributed to the link
    # Set once, when the visits or an order qualified the link for its reward ("visits" | "order").
    qualified_at: Mapped[datetime | None]
    qualified_by: Mapped[str | None] = mapped_column(String(16))
    run_started_at: Mapped[datetime | None]
    reward_status: Mapped[str | None] = mapped_column(String(16))
    reward_reason: Mapped[str | None] = mapped_column(String(32))
    granted: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    rewarded_at: Mapped[datetime | None]
    notice: Mapped[str | None] = mapped_column(String(16))
    notified_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class ShareVisit(Base):
    __tablename__ = "share_visits"

    link_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("share_links.id", ondelete="CASCADE"), primary_key=True
    )
    # A visitor counts once per link: the primary key holds it under concurrency.
    visitor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    visited_at: Mapped[datetime]
