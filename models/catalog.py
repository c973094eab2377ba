"""The store's catalog mirror: products, their variants and categories."""

from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, ForeignKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Product(Base):
    __tablename__ = "products"

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    category_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    available: Mapped[bool]
    url: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(Text)
    gtin: Mapped[str | None] = mapped_column(String(20))
    deleted_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ProductVariant(Base):
    __tablename__ = "product_variants"
    __table_args__ = (
        ForeignKeyConstraint(
            ["store_id", "product_id"],
            ["products.store_id", "products.product_id"],
            ondelete="CASCADE",
        ),
    )

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    variant_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    price: Mapped[int] = mapped_column(BigInteger)
    available: Mapped[bool]
    sku: Mapped[str | None] = mapped_column(Text)
