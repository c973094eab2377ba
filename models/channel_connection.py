"""A store's connection to an ad network or social shop: its ids in clear, its credentials
encrypted (services/channels/connections.py), and its state as staff see it."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class ChannelConnection(Timestamped, Base):
    __tablename__ = "channel_connections"

    store_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    ids: Mapped[dict[str, str]] = mapped_column(JSONB)
    # AES-GCM under SHOPSTAR_CHANNEL_SECRET_KEY, bound to (store, network).
    secrets_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # What staff see of each credential: its last four characters at most.
    masked: Mapped[dict[str, str]] = mapped_column(JSONB)
    api_base_url: Mapped[str | None] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16))
    account_name: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
