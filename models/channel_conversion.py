"""One conversion (or conversion adjustment) of an order for an ad network, and what the
network answered to its last attempt: what staff see in `GET /v1/conversions`. No contact data
here: it is read (with the customer's consent) when the attempt is made."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class ChannelConversion(Timestamped, Base):
    __tablename__ = "channel_conversions"
    __table_args__ = (
        # Once per order and network; an adjustment once per order change (its event).
        UniqueConstraint("store_id", "network", "order_id", "kind", "event_id"),
        Index("ix_channel_conversions_order", "store_id", "order_id"),
        Index("ix_channel_conversions_event", "store_id", "event_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey("stores.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # conversion | adjustment
    event_id: Mapped[str] = mapped_column(String(200))  # the event it comes from
    customer_id: Mapped[str | None] = mapped_column(String(200))
    # The conversion's (or the change's) time, the value it reports and the adjustment's type.
    occurred_at: Mapped[datetime]
    value: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    adjustment: Mapped[str | None] = mapped_column(String(16))  # restatement | retraction
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | refused | retrying
    attempts: Mapped[int] = mapped_column(default=0)
    response_code: Mapped[str | None] = mapped_column(String(100))
    last_response: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
