"""Relay operations set aside: what could not be delivered to Temporal, why, and when it is
tried again. Staff read them at `GET /v1/relay-failures`."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class RelayFailure(Timestamped, Base):
    __tablename__ = "relay_failures"
    __table_args__ = (
        Index("ix_relay_failures_store_created", "store_id", "created_at", "id"),
        # The relay looks up the open ones of a batch's workflows, and the due ones to retry.
        Index(
            "ix_relay_failures_open",
            "store_id",
            "workflow_id",
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index(
            "ix_relay_failures_due", "next_attempt_at", postgresql_where=text("resolved_at IS NULL")
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    # None: the store's events could not even be planned (its flow config does not load).
    workflow_id: Mapped[str | None] = mapped_column(String(300))
    operation: Mapped[str] = mapped_column(String(40))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    # The events still to deliver, in order; later events of the same workflow queue up here.
    event_seqs: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    event_ids: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    next_attempt_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
