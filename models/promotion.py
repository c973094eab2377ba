"""Promotions, their coupon codes and each order's use of a code."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class Promotion(Timestamped, Base):
    __tablename__ = "promotions"
    __table_args__ = (Index("ix_promotions_store_created", "store_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    # Ties in priority go to the older promotion: a sequence says which is older, exactly.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_coupon: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when a condition or action carries an amount: then it prices only carts in it.
    currency: Mapped[str | None] = mapped_column(String(3))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # Bumped by every change: checkout caches parsed promotions by (id, version).
    version: Mapped[int] = mapped_column(Integer, default=1)
    disabled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Coupon(Timestamped, Base):
    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("store_id", "code", name="uq_coupons_store_code"),
        Index("ix_coupons_promotion", "promotion_id", "created_at", "id"),
        Index("ix_coupons_store_created", "store_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    promotion_id: Mapped[str] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    usage: Mapped[str] = mapped_column(String(32))
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    # A code issued to one customer (promo-code rules) is valid for that customer only.
    customer_id: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class CouponRedemption(Timestamped, Base):
    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        Index("ix_coupon_redemptions_order", "store_id", "order_id"),
        # Once per customer, enforced by the database: a second live use cannot be inserted.
        Index(
            "uq_coupon_redemptions_once_per_customer",
            "coupon_id",
            "customer_id",
            unique=True,
            postgresql_where=text("once_per_customer AND released_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40))
    coupon_id: Mapped[str] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str | None] = mapped_column(String(200))
    once_per_customer: Mapped[bool] = mapped_column(Boolean)
    released_at: Mapped[datetime | None]
