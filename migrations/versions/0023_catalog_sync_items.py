"""catalog sync items: one sync table for every network a store's catalog is pushed to
(tiktok_shop, merchant_center, meta); TikTok Shop's rows move onto it

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_sync_items",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=200), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("pushed_items", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
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
            name=op.f("fk_catalog_sync_items_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "network", "product_id", name=op.f("pk_catalog_sync_items")
        ),
    )
    op.create_index(
        "ix_catalog_sync_items_due", "catalog_sync_items", ["store_id", "network", "due_at"]
    )
    op.execute(
        "INSERT INTO catalog_sync_items (store_id, network, product_id, remote_id, dirty, version,"
        " due_at, attempts, attempted_at, pushed_at, last_error, signalled)"
        " SELECT store_id, 'tiktok_shop', product_id, tiktok_product_id, dirty, version, due_at,"
        " attempts, attempted_at, pushed_at, last_error, signalled FROM tiktok_shop_products"
    )
    op.drop_index("ix_tiktok_shop_products_due", table_name="tiktok_shop_products")
    op.drop_table("tiktok_shop_products")


def downgrade() -> None:
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
    op.execute(
        "INSERT INTO tiktok_shop_products (store_id, product_id, tiktok_product_id, dirty, version,"
        " due_at, attempts, attempted_at, pushed_at, last_error, signalled)"
        " SELECT store_id, product_id, remote_id, dirty, version, due_at, attempts, attempted_at,"
        " pushed_at, last_error, signalled FROM catalog_sync_items WHERE network = 'tiktok_shop'"
    )
    op.drop_index("ix_catalog_sync_items_due", table_name="catalog_sync_items")
    op.drop_table("catalog_sync_items")
