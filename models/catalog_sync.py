"""A store's products as pushed to each network whose catalog it syncs (tiktok_shop,
merchant_center, meta; services/channels/catalog_sync.py): the dirty flag a catalog change
sets and only a successful push clears, the network's id of the product (TikTok) or the item
ids pushed for it (one per variant: Merchant Center, Meta), and the last error staff see."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class CatalogSyncItem(Base):
    __tablename__ = "catalog_sync_items"
    __table_args__ = (Index("ix_catalog_sync_items_due", "store_id", "network", "due_at"),)

    store_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    remote_id: Mapped[str | None] = mapped_column(String(64))
    # The item ids last pushed (a variant is an item): a deletion or a dropped variant removes them.
    pushed_items: Mapped[list[str] | None] = mapped_column(JSONB)
    dirty: Mapped[bool]
    # Bumped by every change: a push clears `dirty` only if no change came in meanwhile.
    version: Mapped[int] = mapped_column(BigInteger)
    # Not pushed before: at most once a minute per product, later after failures (backoff).
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    attempted_at: Mapped[datetime | None]
    pushed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # False until the catalog outbox has woken the store's sync run for this change.
    signalled: Mapped[bool] = mapped_column(server_default=false())
