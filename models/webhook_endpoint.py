"""Outbound webhooks: where a store wants to hear of its programs' events, and each delivery of
one event to one endpoint with its attempts. (Inbound provider webhooks are models/webhook.py.)"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class WebhookEndpoint(Timestamped, Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_store_created", "store_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    # The signing secret, AES-GCM under SHOPSTAR_WEBHOOK_SECRET_KEY: it must be read to sign.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # Deleted endpoints stay for their deliveries' history; nothing is sent to them any more.
    deleted_at: Mapped[datetime | None]


class WebhookDelivery(Timestamped, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_store_created", "store_id", "created_at", "id"),
        # The outbox: deliveries not yet handed to Temporal.
        Index(
            "ix_webhook_deliveries_undispatched",
            "created_at",
            postgresql_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(40))
    # The exact JSON body, fixed when the event was emitted: every attempt sends these bytes.
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None]
    # Retries stop here (24 h after the event); the attempt due after it is not made.
    give_up_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
