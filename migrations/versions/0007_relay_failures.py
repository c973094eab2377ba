"""relay failures set aside, fair claiming per store, why a step failed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay_failures",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("workflow_id", sa.String(length=300), nullable=True),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("event_seqs", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("event_ids", postgresql.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_relay_failures_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_failures")),
    )
    op.create_index(
        "ix_relay_failures_store_created", "relay_failures", ["store_id", "created_at", "id"]
    )
    op.create_index(
        "ix_relay_failures_open",
        "relay_failures",
        ["store_id", "workflow_id"],
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index(
        "ix_relay_failures_due",
        "relay_failures",
        ["next_attempt_at"],
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index(
        "ix_events_undelivered_by_store",
        "events",
        ["store_id", "seq"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.add_column("messages", sa.Column("failure_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "failure_reason")
    op.drop_index("ix_events_undelivered_by_store", table_name="events")
    op.drop_index("ix_relay_failures_due", table_name="relay_failures")
    op.drop_index("ix_relay_failures_open", table_name="relay_failures")
    op.drop_index("ix_relay_failures_store_created", table_name="relay_failures")
    op.drop_table("relay_failures")
