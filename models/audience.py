"""Ad-network audiences: a rule over the store's customers, the list each network holds for it,
and per network what was last uploaded (each member's hashes, so a sync sends only the
difference and a removal can be done after the contact data itself is erased)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class Audience(Timestamped, Base):
    __tablename__ = "audiences"
    __table_args__ = (Index("ix_audiences_store_created", "store_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    rule: Mapped[dict[str, Any]] = mapped_column(JSONB)
    networks: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # None until the worker has created the audience's sync schedule in Temporal.
    schedule_synced_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AudienceNetwork(Base):
    """The audience's list on one network (created on the first sync) and its last sync."""

    __tablename__ = "audience_networks"

    audience_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    remote_id: Mapped[str | None] = mapped_column(String(300))
    last_sync_at: Mapped[datetime | None]
    last_sync_status: Mapped[str] = mapped_column(String(16), default="pending")
    last_error: Mapped[str | None] = mapped_column(Text)
    added: Mapped[int] = mapped_column(Integer, default=0)  # by the last sync
    removed: Mapped[int] = mapped_column(Integer, default=0)


class AudienceMember(Base):
    """A customer as uploaded to one network's list: the hashes sent (`email:<hex>`,
    `phone:<hex>`), kept until the network confirms their removal."""

    __tablename__ = "audience_members"
    __table_args__ = (Index("ix_audience_members_customer", "store_id", "customer_id"),)

    audience_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    hashes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    uploaded_at: Mapped[datetime]
