"""flow holdouts: the group of each run a flow started; `holdout` a known suppression reason

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-03 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The suppression reasons as of this revision (a migration does not follow later code).
REASONS = (
    "erased",
    "converted",
    "cart_empty",
    "order_cancelled",
    "flow_disabled",
    "no_contact",
    "no_consent",
    "product_unavailable",
    "recent_order",
    "recent_similar_message",
    "no_promo_code",
)
CHECK = "ck_messages_suppression_reason_known"


def _reasons(values: Sequence[str]) -> None:
    op.drop_constraint(op.f(CHECK), "messages", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(op.f(CHECK), "messages", f"suppression_reason IN ({listed})")


def upgrade() -> None:
    op.create_table(
        "flow_run_groups",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("workflow_id", sa.String(length=300), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "store_id", "workflow_id", "started_at", name=op.f("pk_flow_run_groups")
        ),
    )
    op.create_index(
        "ix_flow_run_groups_started", "flow_run_groups", ["store_id", "kind", "started_at"]
    )
    _reasons((*REASONS, "holdout"))


def downgrade() -> None:
    # Rows suppressed for `holdout` must be gone (or renamed) before the old check comes back.
    _reasons(REASONS)
    op.drop_index("ix_flow_run_groups_started", table_name="flow_run_groups")
    op.drop_table("flow_run_groups")
