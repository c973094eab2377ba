"""affiliates, their clicks, commissions, clawbacks, payouts and payout schedules

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 22:35:07.672574
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "affiliate_payout_schedules",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_affiliate_payout_schedules_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_affiliate_payout_schedules")),
    )
    op.create_table(
        "affiliates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("commission_type", sa.String(length=8), nullable=False),
        sa.Column("commission_value", sa.BigInteger(), nullable=False),
        sa.Column("cookie_days", sa.Integer(), nullable=False),
        sa.Column("holding_days", sa.Integer(), nullable=False),
        sa.Column("payout_mode", sa.String(length=16), nullable=False),
        sa.Column("payout_minimum", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "commission_type IN ('percent', 'fixed')", name=op.f("ck_affiliates_commission_type")
        ),
        sa.CheckConstraint(
            "payout_mode IN ('manual', 'automatic')", name=op.f("ck_affiliates_payout_mode")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_affiliates_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliates")),
    )
    op.create_index(
        "ix_affiliates_store_created", "affiliates", ["store_id", "created_at", "id"], unique=False
    )
    op.create_index("uq_affiliates_store_code", "affiliates", ["store_id", "code"], unique=True)
    op.create_index(
        "uq_affiliates_store_coupon",
        "affiliates",
        ["store_id", "coupon_code"],
        unique=True,
        postgresql_where=sa.text("coupon_code IS NOT NULL"),
    )
    op.create_table(
        "affiliate_clicks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("affiliate_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("landing_url", sa.String(length=2000), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["affiliate_id"],
            ["affiliates.id"],
            name=op.f("fk_affiliate_clicks_affiliate_id_affiliates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_affiliate_clicks_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_clicks")),
    )
    op.create_index(
        "ix_affiliate_clicks_visitor",
        "affiliate_clicks",
        ["store_id", "visitor_id", "clicked_at"],
        unique=False,
    )
    op.create_table(
        "affiliate_commissions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("affiliate_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base_amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("earned_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holding_days", sa.Integer(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payout_id", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'paid', 'voided')",
            name=op.f("ck_affiliate_commissions_commission_status"),
        ),
        sa.CheckConstraint(
            "amount >= 0", name=op.f("ck_affiliate_commissions_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["affiliate_id"],
            ["affiliates.id"],
            name=op.f("fk_affiliate_commissions_affiliate_id_affiliates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_affiliate_commissions_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_commissions")),
    )
    op.create_index(
        "ix_affiliate_commissions_affiliate",
        "affiliate_commissions",
        ["affiliate_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_affiliate_commissions_payable",
        "affiliate_commissions",
        ["affiliate_id"],
        unique=False,
        postgresql_where=sa.text("status = 'approved' AND payout_id IS NULL"),
    )
    op.create_index(
        "uq_affiliate_commissions_order",
        "affiliate_commissions",
        ["store_id", "order_id"],
        unique=True,
    )
    op.create_table(
        "affiliate_payouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("affiliate_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'paid')", name=op.f("ck_affiliate_payouts_payout_status")
        ),
        sa.ForeignKeyConstraint(
            ["affiliate_id"],
            ["affiliates.id"],
            name=op.f("fk_affiliate_payouts_affiliate_id_affiliates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_affiliate_payouts_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_payouts")),
    )
    op.create_index(
        "ix_affiliate_payouts_store_created",
        "affiliate_payouts",
        ["store_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "affiliate_commission_adjustments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("affiliate_id", sa.String(length=40), nullable=False),
        sa.Column("commission_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("payout_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount < 0", name=op.f("ck_affiliate_commission_adjustments_adjustment_negative")
        ),
        sa.ForeignKeyConstraint(
            ["affiliate_id"],
            ["affiliates.id"],
            name=op.f("fk_affiliate_commission_adjustments_affiliate_id_affiliates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["commission_id"],
            ["affiliate_commissions.id"],
            name=op.f("fk_affiliate_commission_adjustments_commission_id_affiliate_commissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_affiliate_commission_adjustments_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affiliate_commission_adjustments")),
    )
    op.create_index(
        "ix_affiliate_adjustments_open",
        "affiliate_commission_adjustments",
        ["affiliate_id"],
        unique=False,
        postgresql_where=sa.text("payout_id IS NULL"),
    )


def downgrade() -> None:
    for table in (
        "affiliate_commission_adjustments",
        "affiliate_payouts",
        "affiliate_commissions",
        "affiliate_clicks",
        "affiliates",
        "affiliate_payout_schedules",
    ):
        op.drop_table(table)
