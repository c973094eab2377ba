"""promo-code rules

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 07:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "promo_code_rules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("promotion_id", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=True),
        sa.Column("expires_after_days", sa.Integer(), nullable=False),
        sa.Column("max_codes", sa.Integer(), nullable=True),
        sa.Column("issued_count", sa.Integer(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promo_code_rules_promotion_id_promotions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_promo_code_rules_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_code_rules")),
    )
    op.create_index(
        op.f("ix_promo_code_rules_store_id"), "promo_code_rules", ["store_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_promo_code_rules_store_id"), table_name="promo_code_rules")
    op.drop_table("promo_code_rules")
