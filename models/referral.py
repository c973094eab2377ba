"""Referral codes (one per customer and store) and the referrals orders made with them. A
referral holds customer ids and amounts only; `customer.erased` clears the ids and disables the
code, and the amounts stay."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class ReferralCode(Timestamped, Base):
    __tablename__ = "referral_codes"
    __table_args__ = (
        UniqueConstraint("store_id", "code"),
        Index(
            "uq_referral_codes_customer",
            "store_id",
            "customer_id",
            unique=True,
            postgresql_where=sql_text("customer_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    # None once the customer was erased (the code is disabled then).
    customer_id: Mapped[str | None] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None]


class Referral(Timestamped, Base):
    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("store_id", "order_id"),
        # One reward per referee: whatever number of orders race, one referral is not rejected.
        Index(
            "uq_referrals_referee",
            "store_id",
            "referee_id",
            unique=True,
            postgresql_where=sql_text("status <> 'rejected'"),
        ),
        Index("ix_referrals_referrer", "store_id", "referrer_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32))
    referrer_id: Mapped[str | None] = mapped_column(String(200))
    referee_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    # The program's rewards when the order came (a later change of the program does not apply).
    referrer_reward: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    referee_reward: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # What was granted: {"referrer": {...}, "referee": {...}} (amounts, coupon ids).
    granted: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    amount: Mapped[int | None] = mapped_column(BigInteger)  # the referrer's store credit
    currency: Mapped[str | None] = mapped_column(String(3))
    hold_until: Mapped[datetime | None]
    rewarded_at: Mapped[datetime | None]
    # The message the referrer is owed ("rewarded"), recorded with the grant; `notified_at`
    # when a sender has handed it over.
    notice: Mapped[str | None] = mapped_column(String(16))
    notified_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
