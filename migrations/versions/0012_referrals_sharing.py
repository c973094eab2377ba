"""referral and sharing programs: settings, codes, referrals, share links and visits

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["store_id"], ["stores.id"], name=op.f(f"fk_{table}_store_id_stores"), ondelete="CASCADE"
    )


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "program_configs",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        _store_fk("program_configs"),
        sa.PrimaryKeyConstraint("store_id", "kind", name=op.f("pk_program_configs")),
    )
    op.create_table(
        "referral_codes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("disabled_at", ts, nullable=True),
        sa.Column("created_at", ts, nullable=False),
        _store_fk("referral_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("store_id", "code", name=op.f("uq_referral_codes_store_id")),
    )
    op.create_index(
        "uq_referral_codes_customer",
        "referral_codes",
        ["store_id", "customer_id"],
        unique=True,
        postgresql_where=sa.text("customer_id IS NOT NULL"),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("referrer_id", sa.String(length=200), nullable=True),
        sa.Column("referee_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("referrer_reward", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("referee_reward", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("granted", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("hold_until", ts, nullable=True),
        sa.Column("rewarded_at", ts, nullable=True),
        sa.Column("notice", sa.String(length=16), nullable=True),
        sa.Column("notified_at", ts, nullable=True),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        _store_fk("referrals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("store_id", "order_id", name=op.f("uq_referrals_store_id")),
    )
    # One reward per referee, held by the database under concurrent orders.
    op.create_index(
        "uq_referrals_referee",
        "referrals",
        ["store_id", "referee_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'rejected'"),
    )
    op.create_index("ix_referrals_referrer", "referrals", ["store_id", "referrer_id", "created_at"])
    op.create_table(
        "share_links",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("product_id", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("qualified_at", ts, nullable=True),
        sa.Column("qualified_by", sa.String(length=16), nullable=True),
        sa.Column("run_started_at", ts, nullable=True),
        sa.Column("reward_status", sa.String(length=16), nullable=True),
        sa.Column("reward_reason", sa.String(length=32), nullable=True),
        sa.Column("granted", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("rewarded_at", ts, nullable=True),
        sa.Column("notice", sa.String(length=16), nullable=True),
        sa.Column("notified_at", ts, nullable=True),
        sa.Column("disabled_at", ts, nullable=True),
        sa.Column("created_at", ts, nullable=False),
        _store_fk("share_links"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_links")),
        sa.UniqueConstraint("token", name=op.f("uq_share_links_token")),
    )
    op.create_index("ix_share_links_customer", "share_links", ["store_id", "customer_id"])
    op.create_index(
        "ix_share_links_outbox",
        "share_links",
        ["id"],
        postgresql_where=sa.text("qualified_at IS NOT NULL AND run_started_at IS NULL"),
    )
    op.create_table(
        "share_visits",
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("visited_at", ts, nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["share_links.id"],
            name=op.f("fk_share_visits_link_id_share_links"),
            ondelete="CASCADE",
        ),
        _store_fk("share_visits"),
        sa.PrimaryKeyConstraint("link_id", "visitor_id", name=op.f("pk_share_visits")),
    )


def downgrade() -> None:
    op.drop_table("share_visits")
    op.drop_table("share_links")
    op.drop_table("referrals")
    op.drop_table("referral_codes")
    op.drop_table("program_configs")
