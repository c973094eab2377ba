"""Storefront visits (one touch each) and visitors (the browser's id, its first and last touch,
and the customer it turned out to be). Only the parsed marketing facts of a landing URL are kept,
never the URL itself: a query string may carry an email address or a token."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_visitor", "store_id", "visitor_id", "visited_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    visitor_id: Mapped[str] = mapped_column(String(200))
    visited_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(500))
    medium: Mapped[str] = mapped_column(String(500))
    direct: Mapped[bool]
    # The whole touch (campaign, click ids, fbc, program tokens), as services.attribution reads it.
    touch: Mapped[dict[str, Any]] = mapped_column(JSONB)


class Visitor(Base):
    __tablename__ = "visitors"
    __table_args__ = (Index("ix_visitors_customer", "store_id", "customer_id"),)

    store_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    visitor_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(200))
    first_visit_id: Mapped[str] = mapped_column(String(40))
    first_seen_at: Mapped[datetime]
    # The last touch that was not direct (a direct visit does not erase a campaign's credit),
    # or the last visit while there has been none.
    last_visit_id: Mapped[str] = mapped_column(String(40))
    last_touch_at: Mapped[datetime]
    last_touch_direct: Mapped[bool]
    last_seen_at: Mapped[datetime]
