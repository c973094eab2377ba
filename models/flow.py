"""Versioned flow configurations and the runs they started (customer -> open workflow ids)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, text
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
