"""storefront visits, visitors and per-order attribution

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["store_id"], ["stores.id"], name=op.f(f"fk_{table}_store_id_stores"), ondelete="CASCADE"
    )


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    tag = sa.String(length=500)
    op.create_table(
        "visits",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("visited_at", ts, nullable=False),
        sa.Column("source", tag, nullable=False),
        sa.Column("medium", tag, nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.Column("touch", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _store_fk("visits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index("ix_visits_visitor", "visits", ["store_id", "visitor_id", "visited_at"])
    op.create_table(
        "visitors",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=True),
        sa.Column("first_visit_id", sa.String(length=40), nullable=False),
        sa.Column("first_seen_at", ts, nullable=False),
        sa.Column("last_visit_id", sa.String(length=40), nullable=False),
        sa.Column("last_touch_at", ts, nullable=False),
        sa.Column("last_touch_direct", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", ts, nullable=False),
        _store_fk("visitors"),
        sa.PrimaryKeyConstraint("store_id", "visitor_id", name=op.f("pk_visitors")),
    )
    op.create_index("ix_visitors_customer", "visitors", ["store_id", "customer_id"])
    op.create_table(
        "order_attributions",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("placed_at", ts, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=True),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("first_touch", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("last_touch", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("first_source", tag, nullable=True),
        sa.Column("first_medium", tag, nullable=True),
        sa.Column("first_campaign", tag, nullable=True),
        sa.Column("last_source", tag, nullable=True),
        sa.Column("last_medium", tag, nullable=True),
        sa.Column("last_campaign", tag, nullable=True),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.Column("flow", sa.String(length=32), nullable=True),
        sa.Column("ad_campaign_id", sa.String(length=40), nullable=True),
        sa.Column("ad_variant_key", sa.String(length=200), nullable=True),
        sa.Column("affiliate_id", tag, nullable=True),
        sa.Column("referral_code", tag, nullable=True),
        sa.Column("share_token", tag, nullable=True),
        _store_fk("order_attributions"),
        sa.PrimaryKeyConstraint("store_id", "order_id", name=op.f("pk_order_attributions")),
    )
    op.create_index("ix_order_attributions_placed", "order_attributions", ["store_id", "placed_at"])


def downgrade() -> None:
    op.drop_table("order_attributions")
    op.drop_table("visitors")
    op.drop_table("visits")
