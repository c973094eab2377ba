"""A store's catalog feed token: what Merchant Center and Meta fetch the feed with."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class FeedToken(Timestamped, Base):
    __tablename__ = "feed_tokens"

    store_id: Mapped[str] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    # Looked up by its SHA-256 (like an API key); kept encrypted too, since staff are shown it
    # again to paste into Merchant Center.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # Bumped by each rotation: part of the feed's ETag.
    version: Mapped[int]
    rotated_at: Mapped[datetime]
