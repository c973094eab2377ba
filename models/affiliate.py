"""Affiliates, their storefront clicks, the commissions their orders earn, clawbacks of
commissions refunded after payout, and the payouts. Commissions hold order ids only (no
customer data), so `customer.erased` has nothing to erase here."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class Affiliate(Timestamped, Base):
    __tablename__ = "affiliates"
    __table_args__ = (
        Index("ix_affiliates_store_created", "store_id", "created_at", "id"),
        Index("uq_affiliates_store_code", "store_id", "code", unique=True),
        Index(
            "uq_affiliates_store_coupon",
            "store_id",
            "coupon_code",
            unique=True,
            postgresql_where=sql_text("coupon_code IS NOT NULL"),
        ),
        CheckConstraint("commission_type IN ('percent', 'fixed')", name="commission_type"),
        CheckConstraint("payout_mode IN ('manual', 'automatic')", name="payout_mode"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    code: Mapped[str] = mapped_column(String(64))
    # Upper-cased (coupon codes match case-insensitively); an order using it is this affiliate's.
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    commission_type: Mapped[str] = mapped_column(String(8))
    # Basis points for `percent` (1250 = 12.50%), minor units of `currency` for `fixed`.
    commission_value: Mapped[int] = mapped_column(BigInteger)
    cookie_days: Mapped[int] = mapped_column(Integer)
    holding_days: Mapped[int] = mapped_column(Integer)
    payout_mode: Mapped[str] = mapped_column(String(16))
    payout_minimum: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool]
    updated_at: Mapped[datetime]


class AffiliateClick(Base):
    __tablename__ = "affiliate_clicks"
    __table_args__ = (Index("ix_affiliate_clicks_visitor", "store_id", "visitor_id", "clicked_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    affiliate_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("affiliates.id", ondelete="CASCADE")
    )
    visitor_id: Mapped[str] = mapped_column(String(200))
    landing_url: Mapped[str | None] = mapped_column(String(2000))
    clicked_at: Mapped[datetime]


class Commission(Timestamped, Base):
    __tablename__ = "affiliate_commissions"
    __table_args__ = (
        Index("uq_affiliate_commissions_order", "store_id", "order_id", unique=True),
        Index("ix_affiliate_commissions_affiliate", "affiliate_id", "created_at", "id"),
        # What a payout takes: approved and not yet in one.
        Index(
            "ix_affiliate_commissions_payable",
            "affiliate_id",
            postgresql_where=sql_text("status = 'approved' AND payout_id IS NULL"),
        ),
        CheckConstraint(
            "status IN ('pending', 'approved', 'paid', 'voided')", name="commission_status"
        ),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    affiliate_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("affiliates.id", ondelete="CASCADE")
    )
    order_id: Mapped[str] = mapped_column(String(200))
    # How the order was attributed: `coupon`, `affiliate_id` or `click`.
    source: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    # The order's total without shipping, and how much of it was refunded since.
    base_amount: Mapped[int] = mapped_column(BigInteger)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    earned_amount: Mapped[int] = mapped_column(BigInteger)  # at the order, before any refund
    amount: Mapped[int] = mapped_column(BigInteger)  # what the affiliate is owed now
    status: Mapped[str] = mapped_column(String(16))
    holding_days: Mapped[int] = mapped_column(Integer)
    approved_at: Mapped[datetime | None]
    payout_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime]


class CommissionAdjustment(Timestamped, Base):
    """A clawback: part of a paid commission refunded later, taken off the next payout."""

    __tablename__ = "affiliate_commission_adjustments"
    __table_args__ = (
        Index(
            "ix_affiliate_adjustments_open",
            "affiliate_id",
            postgresql_where=sql_text("payout_id IS NULL"),
        ),
        CheckConstraint("amount < 0", name="adjustment_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    affiliate_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("affiliates.id", ondelete="CASCADE")
    )
    commission_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("affiliate_commissions.id", ondelete="CASCADE")
    )
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(16))  # refunded | cancelled
    payout_id: Mapped[str | None] = mapped_column(String(40))


class Payout(Timestamped, Base):
    __tablename__ = "affiliate_payouts"
    __table_args__ = (
        Index("ix_affiliate_payouts_store_created", "store_id", "created_at", "id"),
        CheckConstraint("status IN ('pending', 'paid')", name="payout_status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    affiliate_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("affiliates.id", ondelete="CASCADE")
    )
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))  # manual | automatic
    # The lines as taken: [{commission_id, order_id, adjustment, amount}].
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    paid_at: Mapped[datetime | None]


class PayoutSchedule(Base):
    """A store's weekly payout schedule in Temporal: `synced_at` is None until the worker has
    created (or updated) it, so an affiliate saved while Temporal is down still gets one."""

    __tablename__ = "affiliate_payout_schedules"

    store_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    requested_at: Mapped[datetime]
    synced_at: Mapped[datetime | None]
