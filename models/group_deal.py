"""Group and flash deals, and who joined them. A deal holds customer ids only (no contact
details); `customer.erased` clears a participant's id and keeps the row, so the count stays."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class GroupDeal(Timestamped, Base):
    __tablename__ = "group_deals"
    __table_args__ = (
        Index("ix_group_deals_store_created", "store_id", "created_at", "id"),
        CheckConstraint(
            "participants >= 0 AND (max_participants IS NULL OR participants <= max_participants)",
            name="participants_bounds",
        ),
        # The worker's outbox: deals whose run is not started yet, or that have news for it.
        Index(
            "ix_group_deals_outbox",
            "id",
            postgresql_where=sql_text("run_started_at IS NULL OR wake_pending"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    product_id: Mapped[str | None] = mapped_column(String(200))
    variant_id: Mapped[str | None] = mapped_column(String(200))
    deal_price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    min_participants: Mapped[int] = mapped_column(Integer)
    max_participants: Mapped[int | None] = mapped_column(Integer)
    # The number accepted: the join's conditional UPDATE keeps it, and the max, under concurrency.
    participants: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # The run is started by the worker's outbox (deal_outbox.py), so an accepted deal always
    # gets one; `wake_pending` asks it to wake the run (one signal per batch of joins).
    run_started_at: Mapped[datetime | None]
    wake_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class GroupDealParticipant(Base):
    __tablename__ = "group_deal_participants"
    __table_args__ = (UniqueConstraint("deal_id", "customer_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    deal_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("group_deals.id", ondelete="CASCADE"), index=True
    )
    # None once the customer was erased (the participation still counts).
    customer_id: Mapped[str | None] = mapped_column(String(200))
    joined_at: Mapped[datetime]
    # The message this participant is owed (activated | failed | cancelled), recorded when the
    # deal ends that way; `notified_at` when a sender has handed it over.
    notice: Mapped[str | None] = mapped_column(String(16))
    notified_at: Mapped[datetime | None]
