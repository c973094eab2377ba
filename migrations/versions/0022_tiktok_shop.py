"""tiktok shop: the products pushed to each store's TikTok Shop

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tiktok_shop_products",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=200), nullable=False),
        sa.Column("tiktok_product_id", sa.String(length=64), nullable=True),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("signalled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_tiktok_shop_products_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", "product_id", name=op.f("pk_tiktok_shop_products")),
    )
    op.create_index("ix_tiktok_shop_products_due", "tiktok_shop_products", ["store_id", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_tiktok_shop_products_due", table_name="tiktok_shop_products")
    op.drop_table("tiktok_shop_products")
