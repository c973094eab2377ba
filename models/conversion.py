"""Orders attributed to the flow message that brought the customer back (last touch)."""

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Conversion(Base):
    __tablename__ = "conversions"
    __table_args__ = (Index("ix_conversions_flow", "store_id", "flow", "placed_at"),)

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40))
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[int] = mapped_column(Integer)
    revenue: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    placed_at: Mapped[datetime]
