"""audiences: rules, each network's list, what was uploaded per member

Revision ID: 0021
Revises: 0022
Create Date: 2026-11-30 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["store_id"], ["stores.id"], name=op.f(f"fk_{table}_store_id_stores"), ondelete="CASCADE"
    )


def _audience_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["audience_id"],
        ["audiences.id"],
        name=op.f(f"fk_{table}_audience_id_audiences"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "audiences",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rule", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("networks", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("schedule_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _store_fk("audiences"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audiences")),
    )
    op.create_index(
        "ix_audiences_store_created", "audiences", ["store_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "audience_networks",
        sa.Column("audience_id", sa.String(length=40), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("remote_id", sa.String(length=300), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        _audience_fk("audience_networks"),
        _store_fk("audience_networks"),
        sa.PrimaryKeyConstraint("audience_id", "network", name=op.f("pk_audience_networks")),
    )
    op.create_table(
        "audience_members",
        sa.Column("audience_id", sa.String(length=40), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("hashes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        _audience_fk("audience_members"),
        _store_fk("audience_members"),
        sa.PrimaryKeyConstraint(
            "audience_id", "network", "customer_id", name=op.f("pk_audience_members")
        ),
    )
    op.create_index(
        "ix_audience_members_customer",
        "audience_members",
        ["store_id", "customer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_audience_members_customer", table_name="audience_members")
    op.drop_table("audience_members")
    op.drop_table("audience_networks")
    op.drop_index("ix_audiences_store_created", table_name="audiences")
    op.drop_table("audiences")
