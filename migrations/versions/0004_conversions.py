"""conversions; when a send was handed to the provider; when a shopper changed consent

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 07:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversions",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "order_id", name=op.f("pk_conversions")),
    )
    op.create_index("ix_conversions_flow", "conversions", ["store_id", "flow", "placed_at"])
    op.add_column(
        "messages", sa.Column("send_started_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "customers",
        sa.Column(
            "consent_changed_at",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("customers", "consent_changed_at")
    op.drop_column("messages", "send_started_at")
    op.drop_index("ix_conversions_flow", table_name="conversions")
    op.drop_table("conversions")
