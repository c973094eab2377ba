"""The platform's customers as the engine mirrors them: contact, consent, time zone, groups."""

from datetime import datetime

from sqlalchemy import ARRAY, ForeignKey, String, Text, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Customer(Base):
    __tablename__ = "customers"

    store_id: Mapped[str] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    first_name: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(35))
    shopper_groups: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    consent_email: Mapped[bool] = mapped_column(default=False)
    consent_sms: Mapped[bool] = mapped_column(default=False)
    consent_whatsapp: Mapped[bool] = mapped_column(default=False)
    # Hashed contact data may go to ad networks (docs/channels.md); withdrawing it removes the
    # customer from every audience.
    consent_ads: Mapped[bool] = mapped_column(default=False, server_default=false())
    # channel -> when the shopper last changed that consent through us or a provider (STOP,
    # unsubscribe): an older platform upsert does not undo it.
    consent_changed_at: Mapped[dict[str, str]] = mapped_column(
        JSONB, default=dict, server_default="{}"
    )
    erased_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
