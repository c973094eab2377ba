"""Versioned flow configurations and the runs they started (customer -> open workflow ids)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class FlowVersion(Timestamped, Base):
    __tablename__ = "flow_versions"

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)


class RecoveryRun(Base):
    __tablename__ = "recovery_runs"
    __table_args__ = (
        Index(
            "ix_recovery_runs_open_by_customer",
            "store_id",
            "customer_id",
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(200))
    cart_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(64))


class FlowRunGroup(Base):
    """One row per run a flow started (a reopened run is a new row): the group its customer fell
    in when it started, which the flow's lift compares (docs/holdouts.md). Never updated."""

    __tablename__ = "flow_run_groups"
    __table_args__ = (Index("ix_flow_run_groups_started", "store_id", "kind", "started_at"),)

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(200))
    holdout: Mapped[bool] = mapped_column(Boolean)
