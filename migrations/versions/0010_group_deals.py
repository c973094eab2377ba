"""group deals and their participants

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "group_deals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=200), nullable=True),
        sa.Column("variant_id", sa.String(length=200), nullable=True),
        sa.Column("deal_price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_participants", sa.Integer(), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("starts_at", ts, nullable=False),
        sa.Column("ends_at", ts, nullable=False),
        sa.Column("activated_at", ts, nullable=True),
        sa.Column("ended_at", ts, nullable=True),
        sa.Column("run_started_at", ts, nullable=True),
        sa.Column("wake_pending", sa.Boolean(), nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_group_deals_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_deals")),
        # The database holds the rules a burst of joins must not break.
        sa.CheckConstraint(
            "participants >= 0 AND (max_participants IS NULL OR participants <= max_participants)",
            name=op.f("ck_group_deals_participants_bounds"),
        ),
    )
    op.create_index("ix_group_deals_store_created", "group_deals", ["store_id", "created_at", "id"])
    op.create_index(
        "ix_group_deals_outbox",
        "group_deals",
        ["id"],
        postgresql_where=sa.text("run_started_at IS NULL OR wake_pending"),
    )
    op.create_table(
        "group_deal_participants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("deal_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("joined_at", ts, nullable=False),
        sa.Column("notice", sa.String(length=16), nullable=True),
        sa.Column("notified_at", ts, nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_group_deal_participants_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["group_deals.id"],
            name=op.f("fk_group_deal_participants_deal_id_group_deals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_deal_participants")),
        sa.UniqueConstraint(
            "deal_id", "customer_id", name=op.f("uq_group_deal_participants_deal_id")
        ),
    )
    op.create_index(
        op.f("ix_group_deal_participants_deal_id"), "group_deal_participants", ["deal_id"]
    )


def downgrade() -> None:
    op.drop_table("group_deal_participants")
    op.drop_table("group_deals")
