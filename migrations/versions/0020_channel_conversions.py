"""channel conversions: each order's conversion and adjustments per ad network

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 23:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_conversions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("adjustment", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.String(length=100), nullable=True),
        sa.Column("last_response", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_channel_conversions_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_conversions")),
        sa.UniqueConstraint(
            "store_id",
            "network",
            "order_id",
            "kind",
            "event_id",
            name=op.f("uq_channel_conversions_store_id"),
        ),
    )
    op.create_index("ix_channel_conversions_order", "channel_conversions", ["store_id", "order_id"])
    op.create_index("ix_channel_conversions_event", "channel_conversions", ["store_id", "event_id"])


def downgrade() -> None:
    op.drop_index("ix_channel_conversions_event", table_name="channel_conversions")
    op.drop_index("ix_channel_conversions_order", table_name="channel_conversions")
    op.drop_table("channel_conversions")
