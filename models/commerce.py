"""Carts and orders as the platform reports them (the latest state per id)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Cart(Base):
    __tablename__ = "carts"

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    cart_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
    ordered_at: Mapped[datetime | None]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer", "store_id", "customer_id", "placed_at"),)

    store_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200))
    cart_id: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    total: Mapped[int] = mapped_column(BigInteger)
    discount_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    attribution: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(32), default="placed")
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    placed_at: Mapped[datetime]
    updated_at: Mapped[datetime]
