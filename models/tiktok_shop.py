"""A store's products as pushed to its TikTok Shop (services/channels/tiktok_catalog.py): the
dirty flag a catalog change sets and only a successful push clears, TikTok's product id, and the
last error staff see."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class TikTokShopProduct(Base):
    __tablename__ = "tiktok_shop_products"
    __table_args__ = (Index("ix_tiktok_shop_products_due", "store_id", "due_at"),)

    store_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    tiktok_product_id: Mapped[str | None] = mapped_column(String(64))
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
