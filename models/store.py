"""A store and its API keys (only key hashes are stored)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class Store(Timestamped, Base):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    # Only what staff set (PATCH /v1/settings); the process settings fill in the rest.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class ApiKey(Timestamped, Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "secret" | "publishable"
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    revoked_at: Mapped[datetime | None]


class StoreSettingsChange(Timestamped, Base):
    """One PATCH of the store's settings: what changed, from what to what, and by which key."""

    __tablename__ = "store_settings_changes"
    __table_args__ = (Index("ix_store_settings_changes_store", "store_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    key_id: Mapped[str | None] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
