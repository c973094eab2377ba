"""The append-only event log: what the platform sent, in the order it was accepted."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("store_id", "event_id", name="uq_events_store_event"),
        # The relay reads only what it has not delivered: keep that set cheap to find.
        Index("ix_events_undelivered", "seq", postgresql_where=text("delivered_at IS NULL")),
        # The relay takes a share of each store's oldest undelivered events.
        Index(
            "ix_events_undelivered_by_store",
            "store_id",
            "seq",
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
