"""The message log: one row per flow step decided, sent or suppressed."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flow_contract import Channel, FlowKind, GateReason, MessageStatus
from models.base import Base, Timestamped


def one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    """The column holds one of the contract's values (or NULL)."""
    listed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


class Message(Timestamped, Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_customer_flow", "store_id", "customer_id", "flow", "created_at"),
        Index("ix_messages_store_created", "store_id", "created_at", "id"),
        # Provider webhooks find the message by the provider's id.
        Index("ix_messages_provider_message", "store_id", "provider_message_id"),
        one_of("status", MessageStatus),
        one_of("channel", Channel),
        one_of("flow", FlowKind),
        one_of("suppression_reason", GateReason),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str | None] = mapped_column(String(200))
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    suppression_reason: Mapped[str | None] = mapped_column(String(40))
    promo_code: Mapped[str | None] = mapped_column(String(64))
    workflow_id: Mapped[str] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(400), unique=True)
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    # The from address or number the message went out with (the store's setting at send time).
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    # The provider's code when the message failed (Twilio `21610`, SendGrid `http_400`, `bounce`).
    failure_code: Mapped[str | None] = mapped_column(String(40))
    # Why, in words, when the engine itself failed the step (a template or gate error).
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    send_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
