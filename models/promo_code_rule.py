"""Promo-code rules: how flow messages get a unique, single-use code of a promotion."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class PromoCodeRule(Timestamped, Base):
    __tablename__ = "promo_code_rules"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    promotion_id: Mapped[str] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    prefix: Mapped[str | None] = mapped_column(String(20))
    expires_after_days: Mapped[int] = mapped_column(Integer)
    max_codes: Mapped[int | None] = mapped_column(Integer)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None]
