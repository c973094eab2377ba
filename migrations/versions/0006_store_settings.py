"""store settings and their history; the sender of a message; store credit drawn by an order

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "stores",
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_table(
        "store_settings_changes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=True),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_settings_changes_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_settings_changes")),
    )
    op.create_index(
        "ix_store_settings_changes_store",
        "store_settings_changes",
        ["store_id", "created_at", "id"],
    )
    op.add_column("messages", sa.Column("sender", sa.String(length=320), nullable=True))
    op.add_column(
        "store_credit_entries", sa.Column("order_id", sa.String(length=200), nullable=True)
    )
    op.create_index(
        "ix_store_credit_entries_order",
        "store_credit_entries",
        ["store_id", "order_id"],
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_store_credit_entries_order", table_name="store_credit_entries")
    op.drop_column("store_credit_entries", "order_id")
    op.drop_column("messages", "sender")
    op.drop_index("ix_store_settings_changes_store", table_name="store_settings_changes")
    op.drop_table("store_settings_changes")
    op.drop_column("stores", "settings")
