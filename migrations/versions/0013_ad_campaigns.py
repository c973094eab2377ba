"""on-site ad campaigns, assignments, impressions and conversions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _store_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["store_id"], ["stores.id"], name=op.f(f"fk_{table}_store_id_stores"), ondelete="CASCADE"
    )


def _campaign_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["campaign_id"],
        ["ad_campaigns.id"],
        name=op.f(f"fk_{table}_campaign_id_ad_campaigns"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "ad_campaigns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("placements", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("targeting", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("starts_at", ts, nullable=False),
        sa.Column("ends_at", ts, nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("cap_max_impressions", sa.Integer(), nullable=True),
        sa.Column("cap_window_seconds", sa.Integer(), nullable=True),
        sa.Column("variants", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("ended_at", ts, nullable=True),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        _store_fk("ad_campaigns"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_campaigns")),
    )
    op.create_index(
        "ix_ad_campaigns_store_created", "ad_campaigns", ["store_id", "created_at", "id"]
    )
    op.create_table(
        "ad_assignments",
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("variant_key", sa.String(length=40), nullable=False),
        sa.Column("assigned_at", ts, nullable=False),
        sa.Column("window_started_at", ts, nullable=False),
        sa.Column("window_count", sa.Integer(), nullable=False),
        _campaign_fk("ad_assignments"),
        _store_fk("ad_assignments"),
        # One pinned variant and one frequency window per visitor and campaign.
        sa.PrimaryKeyConstraint("campaign_id", "visitor_id", name=op.f("pk_ad_assignments")),
    )
    op.create_index("ix_ad_assignments_visitor", "ad_assignments", ["store_id", "visitor_id"])
    op.create_table(
        "ad_impressions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("variant_key", sa.String(length=40), nullable=False),
        sa.Column("visitor_id", sa.String(length=200), nullable=False),
        sa.Column("placement", sa.String(length=32), nullable=False),
        sa.Column("served_at", ts, nullable=False),
        sa.Column("impressed_at", ts, nullable=True),
        sa.Column("clicked_at", ts, nullable=True),
        _campaign_fk("ad_impressions"),
        _store_fk("ad_impressions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_impressions")),
        sa.UniqueConstraint("token", name=op.f("uq_ad_impressions_token")),
    )
    op.create_index("ix_ad_impressions_campaign", "ad_impressions", ["campaign_id", "variant_key"])
    op.create_index(
        "ix_ad_impressions_clicks", "ad_impressions", ["store_id", "visitor_id", "clicked_at"]
    )
    op.create_table(
        "ad_conversions",
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("variant_key", sa.String(length=40), nullable=False),
        sa.Column("impression_id", sa.String(length=40), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("clicked_at", ts, nullable=False),
        sa.Column("placed_at", ts, nullable=False),
        _campaign_fk("ad_conversions"),
        _store_fk("ad_conversions"),
        # An order is credited to one ad click at most.
        sa.PrimaryKeyConstraint("store_id", "order_id", name=op.f("pk_ad_conversions")),
    )
    op.create_index("ix_ad_conversions_campaign", "ad_conversions", ["campaign_id", "variant_key"])


def downgrade() -> None:
    op.drop_table("ad_conversions")
    op.drop_table("ad_impressions")
    op.drop_table("ad_assignments")
    op.drop_table("ad_campaigns")
