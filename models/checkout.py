"""Completed checkouts: the first result per order (idempotency) and whether it was released."""

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class CompletedCheckout(Timestamped, Base):
    __tablename__ = "completed_checkouts"
    __table_args__ = (Index("ix_completed_checkouts_customer", "store_id", "customer_id"),)

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Set once when the order is cancelled or fully refunded and its uses were given back.
    released_at: Mapped[datetime | None]
