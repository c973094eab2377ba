"""Recommendation pins: products staff put first for a product, per kind, in order."""

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class RecommendationPin(Base):
    __tablename__ = "recommendation_pins"

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # upsell | cross_sell
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    pinned_product_id: Mapped[str] = mapped_column(String(200))
