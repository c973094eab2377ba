"""Bundles: a set of products sold together at a discount."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class Bundle(Timestamped, Base):
    """Never changed once created, only withdrawn (`disabled_at`): checkout caches a parsed
    bundle by its id. To change one, withdraw it and create another."""

    __tablename__ = "bundles"
    __table_args__ = (Index("ix_bundles_store_created", "store_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    # Bundles form their sets oldest first.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    discount: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Set for a fixed discount, which is an amount in this currency.
    currency: Mapped[str | None] = mapped_column(String(3))
    disabled_at: Mapped[datetime | None]
